package devstack

// deploy/k8s as kubectl apply -k renders it (the kustomize API, in process), every object
// decoded strictly into client-go's types: a field that Kubernetes does not know, a kind
// it does not serve, or a document kustomize cannot build fails here rather than at apply.
// The policy checks (k8s_policy_test.go, k8s_network_test.go) read these objects.

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	ktypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/yaml"
)

const (
	k8sNamespace     = "plateforme-rome"
	k8sBase          = "deploy/k8s"
	k8sExample       = "deploy/k8s/overlays/example" // the Secret the base leaves out
	k8sSecretName    = "rome-secrets"
	k8sConfigMapName = "rome-config"
)

// k8sDecoder decodes YAML into client-go's typed objects and refuses unknown or duplicate
// fields, as the API server's strict field validation does.
var k8sDecoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
	kjson.SerializerOptions{Yaml: true, Strict: true})

// k8sObject is a decoded object with its name and namespace.
type k8sObject interface {
	runtime.Object
	metav1.Object
}

// renderK8s builds the kustomization at rel (relative to the repository root) and decodes
// every resulting object.
func renderK8s(t *testing.T, rel string) []k8sObject {
	t.Helper()
	dir := filepath.Join(repoRoot(t), filepath.FromSlash(rel))
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", rel, err)
	}
	var objs []k8sObject
	for _, res := range resources.Resources() {
		doc, err := res.AsYAML()
		if err != nil {
			t.Fatalf("%s: %s: %v", rel, res.CurId(), err)
		}
		obj, _, err := k8sDecoder.Decode(doc, nil, nil)
		if err != nil {
			t.Errorf("%s: %s does not decode strictly: %v", rel, res.CurId(), err)
			continue
		}
		o, ok := obj.(k8sObject)
		if !ok {
			t.Errorf("%s: %s has no object metadata", rel, res.CurId())
			continue
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		t.Fatalf("%s renders no object", rel)
	}
	return objs
}

// ofType lists the objects of one Go type (*appsv1.Deployment, ...).
func ofType[T k8sObject](objs []k8sObject) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// named finds the object of one Go type and name.
func named[T k8sObject](objs []k8sObject, name string) (T, bool) {
	for _, v := range ofType[T](objs) {
		if v.GetName() == name {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// mustNamed is named for objects the checks cannot go on without.
func mustNamed[T k8sObject](t *testing.T, objs []k8sObject, name string) T {
	t.Helper()
	v, ok := named[T](objs, name)
	if !ok {
		t.Fatalf("%T %s is not rendered", v, name)
	}
	return v
}

func objectKey(o k8sObject) string {
	return reflect.TypeOf(o).Elem().Name() + "/" + o.GetName()
}

// k8sPod is the pod template of a workload.
type k8sPod struct {
	owner       string // Kind/name of the workload
	labels      map[string]string
	spec        corev1.PodSpec
	longRunning bool // served by a controller that restarts it forever, not a Job
}

// podsOf lists the pod templates of every kind of workload, so that a new one cannot slip
// past the policy checks.
func podsOf(objs []k8sObject) []k8sPod {
	var pods []k8sPod
	for _, o := range objs {
		pod := k8sPod{owner: objectKey(o)}
		switch w := o.(type) {
		case *appsv1.Deployment:
			pod.labels, pod.spec, pod.longRunning = w.Spec.Template.Labels, w.Spec.Template.Spec, true
		case *appsv1.StatefulSet:
			pod.labels, pod.spec, pod.longRunning = w.Spec.Template.Labels, w.Spec.Template.Spec, true
		case *appsv1.DaemonSet:
			pod.labels, pod.spec, pod.longRunning = w.Spec.Template.Labels, w.Spec.Template.Spec, true
		case *appsv1.ReplicaSet:
			pod.labels, pod.spec, pod.longRunning = w.Spec.Template.Labels, w.Spec.Template.Spec, true
		case *corev1.Pod:
			pod.labels, pod.spec, pod.longRunning = w.Labels, w.Spec, w.Spec.RestartPolicy != corev1.RestartPolicyNever
		case *batchv1.Job:
			pod.labels, pod.spec = w.Spec.Template.Labels, w.Spec.Template.Spec
		case *batchv1.CronJob:
			pod.labels, pod.spec = w.Spec.JobTemplate.Spec.Template.Labels, w.Spec.JobTemplate.Spec.Template.Spec
		default:
			continue
		}
		pods = append(pods, pod)
	}
	return pods
}

// The strict decoder is what makes a misspelt field fail: check that it does.
func TestKubernetesDecoderIsStrict(t *testing.T) {
	for doc, field := range map[string]string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n":                      "replica",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\ndata: {c: d}\n":                    "data",
		"apiVersion: example.org/v1\nkind: Unknown\nmetadata: {name: x}\n":                                      "Unknown",
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {template: {spec: {startupProbes: []}}}\n": "startupProbes",
	} {
		if _, _, err := k8sDecoder.Decode([]byte(doc), nil, nil); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("decoding %q: err = %v, want one naming %s", doc, err, field)
		}
	}
}

// renderDeployment is what a trial deployment applies: the base and the example's Secret.
func renderDeployment(t *testing.T) []k8sObject {
	t.Helper()
	return append(renderK8s(t, k8sBase), renderK8s(t, k8sExample)...)
}

// The base and the example render. The base holds no Secret, so that applying it never
// writes over the real rome-secrets; the example holds that Secret only, with every key the
// services read from it.
func TestKubernetesRenders(t *testing.T) {
	base := renderK8s(t, k8sBase)
	example := renderK8s(t, k8sExample)

	if secrets := ofType[*corev1.Secret](base); len(secrets) != 0 {
		t.Errorf("the base renders Secret %s: an apply would write over the real one", secrets[0].GetName())
	}
	for _, o := range example {
		if objectKey(o) != "Secret/"+k8sSecretName {
			t.Errorf("the example renders %s, want Secret/%s only", objectKey(o), k8sSecretName)
		}
	}
	for _, o := range append(slices.Clone(base), example...) {
		if _, isNamespace := o.(*corev1.Namespace); !isNamespace && o.GetNamespace() != k8sNamespace {
			t.Errorf("%s is in namespace %q, want %s", objectKey(o), o.GetNamespace(), k8sNamespace)
		}
	}

	// Every Secret a pod reads is the example's, and a secret key is in no ConfigMap.
	secret := mustNamed[*corev1.Secret](t, example, k8sSecretName)
	config := mustNamed[*corev1.ConfigMap](t, base, k8sConfigMapName)
	for _, pod := range podsOf(base) {
		for _, c := range pod.spec.Containers {
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil && e.SecretRef.Name != k8sSecretName {
					t.Errorf("%s reads Secret %s, which the example does not hold", pod.owner, e.SecretRef.Name)
				}
			}
		}
	}
	for _, key := range []string{"DATABASE_URL", "AUTH_CLIENT_SECRET", "CONSOLE_OIDC_CLIENT_SECRET", "GRAPH_CLIENT_SECRET",
		"GRAPH_CLIENT_STATE", "ACCESS_LINK_KEY", "SMTP_PASSWORD", "TEMPORAL_CODEC_KEYS"} {
		if _, ok := secret.StringData[key]; !ok {
			t.Errorf("the example rome-secrets lacks %s", key)
		}
		if _, ok := config.Data[key]; ok {
			t.Errorf("%s is in the ConfigMap: it belongs in rome-secrets", key)
		}
	}
}

// Every manifest of deploy/k8s is part of the base (a forgotten file is never applied).
func TestKubernetesKustomizationListsEveryManifest(t *testing.T) {
	dir := filepath.Join(repoRoot(t), filepath.FromSlash(k8sBase))
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kust ktypes.Kustomization
	if err := kyaml.UnmarshalStrict(b, &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	listed := slices.Clone(kust.Resources)
	for _, g := range kust.ConfigMapGenerator {
		for _, f := range g.FileSources {
			listed = append(listed, f[strings.Index(f, "=")+1:])
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(dir, "*.sh"))
	for _, f := range append(files, more...) {
		if name := filepath.Base(f); name != "kustomization.yaml" && !slices.Contains(listed, name) {
			t.Errorf("deploy/k8s/%s is in neither the resources nor a generator of kustomization.yaml", name)
		}
	}
}

// Images are pinned: the platform's five at one release tag, the others at the versions
// docker-compose.yml runs.
func TestKubernetesImagesArePinned(t *testing.T) {
	objs := renderDeployment(t)
	releaseTags := map[string]bool{}
	images := map[string]string{} // repository → tag
	for _, pod := range podsOf(objs) {
		for _, c := range slices.Concat(pod.spec.InitContainers, pod.spec.Containers) {
			repo, tag := splitImage(c.Image)
			if tag == "" || tag == "latest" {
				t.Errorf("%s container %s runs %s: want a pinned tag", pod.owner, c.Name, c.Image)
			}
			images[repo] = tag
			if name, ok := strings.CutPrefix(repo, "plateforme-rome/"); ok {
				releaseTags[tag] = true
				if !slices.ContainsFunc(services, func(s service) bool { return s.name == name }) {
					t.Errorf("%s runs %s, which is no service's image", pod.owner, c.Image)
				}
			}
		}
	}
	if len(releaseTags) != 1 {
		t.Errorf("the platform's images run at tags %v, want one release's", releaseTags)
	}
	for _, s := range services {
		if _, ok := images["plateforme-rome/"+s.name]; !ok {
			t.Errorf("no pod runs plateforme-rome/%s", s.name)
		}
	}

	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"temporal-search-attributes", "otel-collector"} {
		repo, tag := splitImage(p.Services[svc].Image)
		if got, ok := images[repo]; !ok || got != tag {
			t.Errorf("Kubernetes runs %s at %q, docker-compose.yml's %s at %q", repo, got, svc, tag)
		}
	}
}

// splitImage splits an image reference into its repository and tag ("" when untagged; a
// digest counts as a tag).
func splitImage(image string) (repo, tag string) {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i], image[i+1:]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i], image[i+1:]
	}
	return image, ""
}

// The collector's Kubernetes configuration is compose's (deploy/otel/collector.yaml, which
// kustomize cannot read from outside deploy/k8s) but for exporter endpoints taken from the
// environment, which the collector's Deployment sets; the services send to its Service.
func TestKubernetesOTelCollector(t *testing.T) {
	root := repoRoot(t)
	read := func(rel string) map[string]any {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		return m
	}
	compose, k8s := read("deploy/otel/collector.yaml"), read(k8sBase+"/otel/collector.yaml")

	objs := renderK8s(t, k8sBase)
	dep := mustNamed[*appsv1.Deployment](t, objs, "otel-collector")
	c := dep.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	exporters, _ := k8s["exporters"].(map[string]any)
	composeExporters, _ := compose["exporters"].(map[string]any)
	for name, e := range exporters {
		settings, _ := e.(map[string]any)
		endpoint, _ := settings["endpoint"].(string)
		variable, ok := strings.CutPrefix(endpoint, "${env:")
		if !ok {
			continue
		}
		variable = strings.TrimSuffix(variable, "}")
		if env[variable] == "" {
			t.Errorf("exporter %s sends to $%s, which the collector's Deployment does not set", name, variable)
		}
		if composeSettings, ok := composeExporters[name].(map[string]any); ok {
			settings["endpoint"] = composeSettings["endpoint"]
		}
	}
	if !reflect.DeepEqual(k8s, compose) {
		t.Errorf("deploy/k8s/otel/collector.yaml differs from deploy/otel/collector.yaml beyond its exporters' endpoints:\n%v\n%v", k8s, compose)
	}

	// The config is the generated ConfigMap, mounted where --config reads it.
	var configPath string
	for _, a := range slices.Concat(c.Command, c.Args) {
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			configPath = p
		}
	}
	file, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(k8sBase), "otel", "collector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !mountsFile(objs, dep.Spec.Template.Spec, c, configPath, string(file)) {
		t.Errorf("the collector reads --config=%q, where deploy/k8s/otel/collector.yaml is not mounted", configPath)
	}

	// The services' OTLP endpoint is the collector's Service, on the OTLP/HTTP receiver's port.
	receivers, _ := k8s["receivers"].(map[string]any)
	otlp, _ := receivers["otlp"].(map[string]any)
	protocols, _ := otlp["protocols"].(map[string]any)
	httpReceiver, _ := protocols["http"].(map[string]any)
	listen, _ := httpReceiver["endpoint"].(string)
	_, receiverPort, _ := net.SplitHostPort(listen)
	config := mustNamed[*corev1.ConfigMap](t, objs, k8sConfigMapName)
	endpoint, err := url.Parse(config.Data["OTEL_EXPORTER_OTLP_ENDPOINT"])
	if err != nil || endpoint.Hostname() != dep.Name {
		t.Fatalf("OTEL_EXPORTER_OTLP_ENDPOINT = %q, want the collector's Service", config.Data["OTEL_EXPORTER_OTLP_ENDPOINT"])
	}
	svc := mustNamed[*corev1.Service](t, objs, endpoint.Hostname())
	if port, ok := servicePortTarget(svc, endpoint.Port(), dep.Spec.Template.Spec); !ok || strconv.Itoa(int(port)) != receiverPort {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT = %s reaches container port %d, want the OTLP/HTTP receiver's %s", endpoint, port, receiverPort)
	}
}
