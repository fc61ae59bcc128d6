package devstack

// Checks of docker-compose.yml and deploy/ that need no Docker engine or cluster: the files
// load with the libraries docker compose and kubectl use, and they agree with the code
// (binaries, ports, probes, search attributes, telemetry wiring).

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

var composeEnv = []string{
	"AUTH_ISSUER=https://login.example.org/realms/rome",
	"AUTH_AUDIENCE=rome-platform",
	"CONSOLE_OIDC_CLIENT_ID=rome-console",
	"AUTH_CLIENT_ID=rome-platform-services",
	"AUTH_CLIENT_SECRET=s3cret",
	"AUTH_TOKEN_URL=https://login.example.org/realms/rome/protocol/openid-connect/token",
	"ACCESS_LINK_KEY=0123456789abcdef0123456789abcdef",
	"TEMPORAL_CODEC_KEYS=k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
}

func loadCompose(t *testing.T, env []string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot(t), "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot(t)), cli.WithEnv(env), cli.WithInterpolation(true))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// Production mode has no dev issuer nor dev sign-in form: without a real identity provider,
// the console's client there and the services' own client (every service asks the
// intake's directory), or without the key of the access requests' links, compose must refuse
// to start.
func TestComposeRefusesToStartWithoutAnIdentityProvider(t *testing.T) {
	for i, key := range []string{"AUTH_ISSUER", "AUTH_AUDIENCE", "CONSOLE_OIDC_CLIENT_ID", "AUTH_CLIENT_ID", "AUTH_CLIENT_SECRET", "AUTH_TOKEN_URL", "ACCESS_LINK_KEY", "TEMPORAL_CODEC_KEYS"} {
		env := slices.Delete(slices.Clone(composeEnv), i, i+1)
		if _, err := loadCompose(t, env); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("loading without %s: err = %v, want one naming it", key, err)
		}
	}
}

func TestComposeFile(t *testing.T) {
	root := repoRoot(t)
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	want := []string{"postgres", "temporal-schema", "temporal", "temporal-search-attributes", "temporal-ui",
		"otel-collector", "jaeger", "referential-import", "console", "intake", "referential", "notifications", "worker"}
	for _, name := range want {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}

	for name, svc := range p.Services {
		for dep := range svc.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeBind && v.Target != "/data/rome4" {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s, which does not exist", name, v.Source)
				}
			}
		}
		if svc.Build == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(svc.Build.Context, svc.Build.Dockerfile)); err != nil {
			t.Errorf("%s: Dockerfile %s in context %s: %v", name, svc.Build.Dockerfile, svc.Build.Context, err)
		}
		arg := svc.Build.Args["SERVICE"]
		if arg == nil {
			t.Errorf("%s builds without a SERVICE build arg", name)
			continue
		}
		if st, err := os.Stat(filepath.Join(root, "services", *arg, "cmd", *arg)); err != nil || !st.IsDir() {
			t.Errorf("%s: build arg SERVICE=%s names no services/%s/cmd/%s", name, *arg, *arg, *arg)
		}
	}

	for _, s := range services {
		svc := p.Services[s.name]
		port := strconv.Itoa(s.port.def)
		if !slices.ContainsFunc(svc.Ports, func(pc types.ServicePortConfig) bool {
			return pc.Published == port && strconv.Itoa(int(pc.Target)) == port
		}) {
			t.Errorf("%s does not publish %s:%s: %+v", s.name, port, port, svc.Ports)
		}
		for key, want := range map[string]string{
			s.port.env:         port,
			"ROME_DEV_MODE":    "false",
			"TEMPORAL_ADDRESS": "temporal:7233",
		} {
			if got := svc.Environment[key]; got == nil || *got != want {
				t.Errorf("%s: %s = %v, want %s", s.name, key, got, want)
			}
		}
		if s.urlEnv != "" {
			for _, other := range services {
				if got := p.Services[other.name].Environment[s.urlEnv]; got == nil || *got != "http://"+s.name+":"+port {
					t.Errorf("%s: %s = %v, want http://%s:%s", other.name, s.urlEnv, got, s.name, port)
				}
			}
		}
		if svc.HealthCheck == nil || !strings.Contains(strings.Join(svc.HealthCheck.Test, " "), "127.0.0.1:"+port+"/readyz") {
			t.Errorf("%s: no healthcheck on its /readyz", s.name)
		}
		if otel := svc.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]; otel == nil || *otel != "http://otel-collector:4318" {
			t.Errorf("%s does not send telemetry to the collector: %v", s.name, otel)
		}
	}
	if pc := p.Services["temporal"].Ports; len(pc) != 1 || pc[0].Published != "7233" {
		t.Errorf("temporal ports = %+v, want 7233", pc)
	}
	if pc := p.Services["temporal-ui"].Ports; len(pc) != 1 || pc[0].Published != strconv.Itoa(temporalUIPort.def) {
		t.Errorf("temporal-ui ports = %+v, want %d", pc, temporalUIPort.def)
	}
}

func TestComposeJobs(t *testing.T) {
	root := repoRoot(t)
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatal(err)
	}

	// The registration job runs the generated script from its mount.
	sa := p.Services["temporal-search-attributes"]
	script := strings.Join(append(sa.Entrypoint, sa.Command...), " ")
	mounted := false
	for _, v := range sa.Volumes {
		if v.Source == filepath.Join(root, "deploy", "temporal") && strings.Contains(script, v.Target+"/register-search-attributes.sh") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("temporal-search-attributes does not run deploy/temporal/register-search-attributes.sh: %q %+v", script, sa.Volumes)
	}
	if sa.DependsOn["temporal"].Condition != types.ServiceConditionHealthy {
		t.Errorf("temporal-search-attributes must wait for a healthy temporal: %+v", sa.DependsOn)
	}
	for _, s := range []string{"intake", "notifications", "worker"} {
		if p.Services[s].DependsOn["temporal-search-attributes"].Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s starts before the search attributes are registered", s)
		}
	}

	// The import job reads the ROME export read-only, and the referential waits for it.
	imp := p.Services["referential-import"]
	if cmd := strings.Join(imp.Command, " "); !strings.Contains(cmd, "import --if-empty /data/rome4") {
		t.Errorf("referential-import command = %q", cmd)
	}
	dataMount := slices.IndexFunc(imp.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == "/data/rome4" })
	if dataMount < 0 {
		t.Fatal("referential-import does not mount /data/rome4")
	}
	if v := imp.Volumes[dataMount]; !v.ReadOnly || v.Source != filepath.Join(filepath.Dir(root), "shared", "data", "rome4") {
		t.Errorf("ROME data mount = %+v, want ../shared/data/rome4 read-only by default", v)
	}
	if p.Services["referential"].DependsOn["referential-import"].Condition != types.ServiceConditionCompletedSuccessfully {
		t.Error("referential starts before the import completes")
	}
}

// The console: its public URL is where every link to a page leads (the intake's, the
// notifications'), its OIDC client comes from the environment, and it starts once the
// services it calls are healthy.
func TestComposeConsole(t *testing.T) {
	env := func(p *types.Project, svc, key string) string {
		t.Helper()
		v := p.Services[svc].Environment[key]
		if v == nil {
			t.Errorf("%s: %s is not set", svc, key)
			return ""
		}
		return *v
	}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{composeEnv, "http://localhost:8080"},
		{append(slices.Clone(composeEnv), "CONSOLE_PUBLIC_URL=https://console.rome.example.org"), "https://console.rome.example.org"},
	} {
		p, err := loadCompose(t, tc.env)
		if err != nil {
			t.Fatal(err)
		}
		if got := env(p, "console", "CONSOLE_PUBLIC_URL"); got != tc.want {
			t.Errorf("console CONSOLE_PUBLIC_URL = %q, want %q", got, tc.want)
		}
		if got := env(p, "intake", "CONSOLE_URL"); got != tc.want {
			t.Errorf("intake CONSOLE_URL = %q, want the console's public URL %q", got, tc.want)
		}
		if got := env(p, "notifications", "PUBLIC_URL"); got != tc.want {
			t.Errorf("notifications PUBLIC_URL = %q, want the console's public URL %q", got, tc.want)
		}
		if got := env(p, "notifications", "INBOX_URL"); got != "/notifications" {
			t.Errorf("notifications INBOX_URL = %q, want the console's /notifications", got)
		}
	}

	p, err := loadCompose(t, append(slices.Clone(composeEnv), "CONSOLE_OIDC_CLIENT_SECRET=s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if env(p, "console", "CONSOLE_OIDC_CLIENT_ID") != "rome-console" || env(p, "console", "CONSOLE_OIDC_CLIENT_SECRET") != "s3cret" {
		t.Error("the console does not take its OIDC client from the environment")
	}
	console := p.Services["console"]
	if console.Build == nil || console.Build.Args["SERVICE"] == nil || *console.Build.Args["SERVICE"] != "console" {
		t.Errorf("console is not built from deploy/Dockerfile with SERVICE=console: %+v", console.Build)
	}
	for _, dep := range []string{"intake", "referential", "notifications"} {
		if console.DependsOn[dep].Condition != types.ServiceConditionHealthy {
			t.Errorf("console starts before %s is healthy: %+v", dep, console.DependsOn)
		}
	}
}

// The images build the console's assets (web/build.sh, with node) before the Go build,
// from a context that leaves out the local node_modules and built assets.
func TestDockerfileBuildsTheConsoleAssets(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stage, assetsStage := "", ""
	var copied, built bool
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && strings.EqualFold(f[0], "FROM"):
			stage = "" // the final, unnamed stage
			if len(f) >= 4 && strings.EqualFold(f[2], "AS") {
				stage = f[3]
			}
			if strings.HasPrefix(f[1], "node:") {
				assetsStage = stage
			}
		case strings.Contains(line, "web/build.sh") && stage == assetsStage && assetsStage != "":
			built = true
		case len(f) >= 2 && f[0] == "COPY" && f[1] == "--from="+assetsStage && strings.Contains(line, "internal/assets/dist"):
			copied = true
			if stage != "build" {
				t.Errorf("the assets are copied into stage %s, not the Go build stage", stage)
			}
		case strings.Contains(line, "go build") && stage == "build" && !copied:
			t.Error("the Go build runs before the console's assets are copied in")
		}
	}
	if assetsStage == "" || !built || !copied {
		t.Errorf("deploy/Dockerfile: a node stage running services/console/web/build.sh (%q, ran %v) whose dist the build stage copies (%v)", assetsStage, built, copied)
	}
	if _, err := os.Stat(filepath.Join(root, "services", "console", "web", "build.sh")); err != nil {
		t.Error(err)
	}
	ignore, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile.dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"services/console/web/node_modules", "services/console/internal/assets/dist/*", "!services/console/internal/assets/dist/README.md"} {
		if !slices.Contains(strings.Split(string(ignore), "\n"), want) {
			t.Errorf("Dockerfile.dockerignore lacks %q", want)
		}
	}
}

// collectorConfig is the part of an OpenTelemetry collector config that wires components.
type collectorConfig struct {
	Receivers  map[string]any `yaml:"receivers"`
	Processors map[string]any `yaml:"processors"`
	Exporters  map[string]any `yaml:"exporters"`
	Extensions map[string]any `yaml:"extensions"`
	Service    struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

func TestOTelCollectorConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "otel", "collector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c collectorConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("collector.yaml: %v", err)
	}
	for _, signal := range []string{"traces", "metrics"} {
		if _, ok := c.Service.Pipelines[signal]; !ok {
			t.Errorf("no %s pipeline", signal)
		}
	}
	defined := func(kind string, m map[string]any, names []string) {
		if len(names) == 0 && kind != "processor" && kind != "extension" {
			t.Errorf("a pipeline has no %s", kind)
		}
		for _, n := range names {
			if _, ok := m[n]; !ok {
				t.Errorf("%s %q is used but not defined", kind, n)
			}
		}
	}
	for _, p := range c.Service.Pipelines {
		defined("receiver", c.Receivers, p.Receivers)
		defined("processor", c.Processors, p.Processors)
		defined("exporter", c.Exporters, p.Exporters)
	}
	defined("extension", c.Extensions, c.Service.Extensions)

	// The services send OTLP over HTTP to port 4318 (docker-compose.yml, configmap.yaml).
	var otlp struct {
		Protocols struct {
			HTTP struct {
				Endpoint string `yaml:"endpoint"`
			} `yaml:"http"`
		} `yaml:"protocols"`
	}
	node, _ := yaml.Marshal(c.Receivers["otlp"])
	if err := yaml.Unmarshal(node, &otlp); err != nil {
		t.Fatal(err)
	}
	if _, port, err := net.SplitHostPort(otlp.Protocols.HTTP.Endpoint); err != nil || port != "4318" {
		t.Errorf("otlp http receiver endpoint = %q, want port 4318", otlp.Protocols.HTTP.Endpoint)
	}
}

// The manifests agree with the code and with docker-compose.yml: ports, the Services the
// *_URL settings name, health endpoints, settings and secrets, and the two setup Jobs.
func TestKubernetesManifests(t *testing.T) {
	objs := renderDeployment(t)
	for _, want := range []string{"Namespace/" + k8sNamespace, "ConfigMap/" + k8sConfigMapName, "Secret/" + k8sSecretName,
		"PersistentVolumeClaim/rome-data", "Job/referential-import", "Job/temporal-search-attributes"} {
		if !slices.ContainsFunc(objs, func(o k8sObject) bool { return objectKey(o) == want }) {
			t.Errorf("%s is missing", want)
		}
	}
	config := mustNamed[*corev1.ConfigMap](t, objs, k8sConfigMapName).Data
	if config["ROME_DEV_MODE"] != "false" {
		t.Errorf("rome-config ROME_DEV_MODE = %q, want false", config["ROME_DEV_MODE"])
	}

	for _, s := range services {
		port := int32(s.port.def)
		if got := config[s.port.env]; got != strconv.Itoa(s.port.def) {
			t.Errorf("rome-config %s = %q, want %d", s.port.env, got, port)
		}
		if want := "http://" + s.name + ":" + strconv.Itoa(s.port.def); s.urlEnv != "" && config[s.urlEnv] != want {
			t.Errorf("rome-config %s = %q, want %s (its Service)", s.urlEnv, config[s.urlEnv], want)
		}
		dep, ok := named[*appsv1.Deployment](objs, s.name)
		if !ok {
			t.Errorf("Deployment/%s is missing", s.name)
			continue
		}
		pod := dep.Spec.Template.Spec
		if !selects(dep.Spec.Selector, dep.Spec.Template.Labels) {
			t.Errorf("%s: the selector does not match the pod labels", s.name)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: want one container", s.name)
		}
		c := pod.Containers[0]
		if !strings.HasPrefix(c.Image, "plateforme-rome/"+s.name+":") {
			t.Errorf("%s runs image %s", s.name, c.Image)
		}
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.ContainerPort == port }) {
			t.Errorf("%s does not expose container port %d", s.name, port)
		}
		for what, pr := range map[string]struct {
			p    *corev1.Probe
			path string
		}{"startup": {c.StartupProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}} {
			if pr.p == nil || pr.p.HTTPGet == nil || pr.p.HTTPGet.Path != pr.path || containerPort(pod, pr.p.HTTPGet.Port) != port {
				t.Errorf("%s: %s probe = %+v, want GET %s on port %d", s.name, what, pr.p, pr.path, port)
			}
		}
		var fromConfig, fromSecret bool
		for _, e := range c.EnvFrom {
			fromConfig = fromConfig || (e.ConfigMapRef != nil && e.ConfigMapRef.Name == k8sConfigMapName)
			fromSecret = fromSecret || (e.SecretRef != nil && e.SecretRef.Name == k8sSecretName)
		}
		if !fromConfig || !fromSecret {
			t.Errorf("%s: env not from %s and %s", s.name, k8sConfigMapName, k8sSecretName)
		}

		if s.name == "worker" { // no API, only probes
			continue
		}
		svc, ok := named[*corev1.Service](objs, s.name)
		if !ok {
			t.Errorf("Service/%s is missing", s.name)
			continue
		}
		if d, ok := deploymentSelectedBy(objs, svc.Spec.Selector); !ok || d.Name != s.name {
			t.Errorf("Service/%s selects %v, not the pods of Deployment/%s", s.name, svc.Spec.Selector, s.name)
		}
		if target, ok := servicePortTarget(svc, strconv.Itoa(s.port.def), pod); len(svc.Spec.Ports) != 1 || !ok || target != port {
			t.Errorf("Service/%s ports = %+v, want %d to the container's port", s.name, svc.Spec.Ports, port)
		}
	}

	// The console: its public URL, its OIDC client (the secret in rome-secrets), and the
	// links of the intake and of the notifications service, which lead to it.
	if u := config["CONSOLE_PUBLIC_URL"]; !strings.HasPrefix(u, "https://") {
		t.Errorf("rome-config CONSOLE_PUBLIC_URL = %q, want an https URL", u)
	} else if config["CONSOLE_URL"] != u {
		t.Errorf("rome-config CONSOLE_URL = %q, want CONSOLE_PUBLIC_URL %q (the intake's links)", config["CONSOLE_URL"], u)
	}
	if config["CONSOLE_OIDC_CLIENT_ID"] == "" {
		t.Error("rome-config has no CONSOLE_OIDC_CLIENT_ID")
	}
	notifEnv := map[string]string{}
	for _, e := range mustNamed[*appsv1.Deployment](t, objs, "notifications").Spec.Template.Spec.Containers[0].Env {
		notifEnv[e.Name] = e.Value
	}
	if notifEnv["PUBLIC_URL"] != "$(CONSOLE_PUBLIC_URL)" || notifEnv["INBOX_URL"] != "/notifications" {
		t.Errorf("notifications env = %v, want PUBLIC_URL=$(CONSOLE_PUBLIC_URL) and INBOX_URL=/notifications", notifEnv)
	}

	imp := mustNamed[*batchv1.Job](t, objs, "referential-import").Spec.Template.Spec
	if c := imp.Containers; len(c) != 1 || !strings.Contains(strings.Join(c[0].Command, " "), "import --if-empty /data/rome4") {
		t.Errorf("referential-import job does not run the import: %+v", c)
	} else if !slices.ContainsFunc(c[0].VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/data/rome4" && m.ReadOnly }) {
		t.Error("referential-import job does not mount /data/rome4 read-only")
	}

	// The registration job runs the generated script from the generated ConfigMap.
	sa := mustNamed[*batchv1.Job](t, objs, "temporal-search-attributes").Spec.Template.Spec
	const script = "/scripts/register-search-attributes.sh"
	if c := sa.Containers; len(c) != 1 || !strings.HasSuffix(strings.Join(c[0].Command, " "), script) {
		t.Errorf("temporal-search-attributes job does not run the script: %+v", c)
	} else if !mountsFile(objs, sa, c[0], script, SearchAttributesScript()) {
		t.Errorf("temporal-search-attributes job does not mount the generated %s", script)
	}
}

// One Temporal server version: the cluster the end-to-end tests run (TemporalServerVersion,
// built from its module), the compose file's server and admin tools, and the Kubernetes
// registration Job's admin tools; and one UI version, the one devstack builds and compose's.
func TestTemporalVersionIsTheSameEverywhere(t *testing.T) {
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatal(err)
	}
	tag := TemporalImageTag
	for name, image := range map[string]string{
		"temporal":                   "temporalio/server:" + tag,
		"temporal-schema":            "temporalio/admin-tools:" + tag,
		"temporal-search-attributes": "temporalio/admin-tools:" + tag,
		"temporal-ui":                "temporalio/ui:" + TemporalUIImageTag,
	} {
		if got := p.Services[name].Image; got != image {
			t.Errorf("compose %s runs %s, want %s (TemporalServerVersion %s, TemporalUIVersion %s)", name, got, image, TemporalServerVersion, TemporalUIVersion)
		}
	}
	job := mustNamed[*batchv1.Job](t, renderDeployment(t), "temporal-search-attributes").Spec.Template.Spec
	if c := job.Containers; len(c) != 1 || c[0].Image != "temporalio/admin-tools:"+tag {
		t.Errorf("Kubernetes temporal-search-attributes runs %+v, want temporalio/admin-tools:%s", c, tag)
	}
}
