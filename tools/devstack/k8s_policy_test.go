package devstack

// The production rules of the Kubernetes manifests (issue #13), on every rendered pod
// template: the restricted Pod Security profile (checked by the admission controller's own
// evaluator), probes, resources, replicas with their disruption budgets and autoscalers,
// the Ingress, and a migration Job per service with a database.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// selects reports whether a label selector selects the labels; a selector that does not
// parse selects nothing.
func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(l))
}

// containerPort resolves a probe's or a Service's target port (a number or a port name)
// to the number one of the pod's containers listens on; 0 when none does.
func containerPort(spec corev1.PodSpec, target intstr.IntOrString) int32 {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if (target.Type == intstr.Int && p.ContainerPort == target.IntVal) || (target.Type == intstr.String && p.Name == target.StrVal) {
				return p.ContainerPort
			}
		}
	}
	return 0
}

// servicePortTarget finds the Service's port named or numbered port and the container port
// of spec it leads to.
func servicePortTarget(svc *corev1.Service, port string, spec corev1.PodSpec) (int32, bool) {
	for _, p := range svc.Spec.Ports {
		if p.Name == port || strconv.Itoa(int(p.Port)) == port {
			n := containerPort(spec, p.TargetPort)
			return n, n != 0
		}
	}
	return 0, false
}

// deploymentSelectedBy returns the Deployment whose pods the selector selects.
func deploymentSelectedBy(objs []k8sObject, sel map[string]string) (*appsv1.Deployment, bool) {
	for _, d := range ofType[*appsv1.Deployment](objs) {
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(d.Spec.Template.Labels)) {
			return d, true
		}
	}
	return nil, false
}

// Every pod passes the restricted profile that the namespace enforces, as the admission
// controller evaluates it, and more: a read-only root filesystem with writable emptyDirs
// where the services write, and no service account token (no pod calls the API server).
func TestKubernetesPodSecurity(t *testing.T) {
	objs := renderDeployment(t)
	ns := mustNamed[*corev1.Namespace](t, objs, k8sNamespace)
	latest := psaapi.LevelVersion{Level: psaapi.LevelPrivileged, Version: psaapi.LatestVersion()}
	enforced, errs := psaapi.PolicyToEvaluate(ns.Labels, psaapi.Policy{Enforce: latest, Audit: latest, Warn: latest})
	if len(errs) > 0 {
		t.Fatalf("namespace %s's Pod Security labels: %v", ns.Name, errs.ToAggregate())
	}
	for mode, lv := range map[string]psaapi.LevelVersion{"enforce": enforced.Enforce, "audit": enforced.Audit, "warn": enforced.Warn} {
		if lv.Level != psaapi.LevelRestricted {
			t.Errorf("namespace %s: Pod Security %s level = %s, want restricted", ns.Name, mode, lv.Level)
		}
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	refusal := func(pod k8sPod) string {
		r := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &metav1.ObjectMeta{Labels: pod.labels}, &pod.spec))
		if r.Allowed {
			return ""
		}
		return strings.Join(r.ForbiddenReasons, "; ") + ": " + strings.Join(r.ForbiddenDetails, "; ")
	}

	stateDir := imageStateDir(t)
	pods := podsOf(objs)
	for _, pod := range pods {
		if why := refusal(pod); why != "" {
			t.Errorf("%s violates the restricted Pod Security profile: %s", pod.owner, why)
		}
		spec := pod.spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s mounts a service account token", pod.owner)
		}
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
			psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext = %+v, want runAsNonRoot, a non-root runAsUser and the RuntimeDefault seccomp profile", pod.owner, psc)
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			sc := c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
				!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s container %s: securityContext = %+v, want no privilege escalation and every capability dropped", pod.owner, c.Name, sc)
			}
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s container %s: the root filesystem is writable", pod.owner, c.Name)
			}
			// The services write only below the image's ROME_STATE_DIR (SQLite, without
			// DATABASE_URL) and Go's temporary directory.
			if strings.HasPrefix(c.Image, "plateforme-rome/") {
				for _, dir := range []string{os.TempDir(), stateDir} {
					if !writableEmptyDir(spec, c, dir) {
						t.Errorf("%s container %s: %s is on the read-only root filesystem, want a writable emptyDir", pod.owner, c.Name, dir)
					}
				}
			}
		}
	}

	// The evaluator refuses what the profile forbids: a pod without its securityContext.
	if len(pods) == 0 {
		t.Fatal("no pod template rendered")
	}
	bare := pods[0]
	bare.spec = *bare.spec.DeepCopy()
	bare.spec.SecurityContext = nil
	for i := range bare.spec.Containers {
		bare.spec.Containers[i].SecurityContext = nil
	}
	if refusal(bare) == "" {
		t.Errorf("the restricted profile admits %s without its securityContext", bare.owner)
	}
}

// imageStateDir is ROME_STATE_DIR as deploy/Dockerfile sets it in the services' image.
func imageStateDir(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if dir, ok := strings.CutPrefix(strings.TrimSpace(line), "ENV ROME_STATE_DIR="); ok {
			return dir
		}
	}
	t.Fatal("deploy/Dockerfile sets no ROME_STATE_DIR")
	return ""
}

// writableEmptyDir reports whether dir is on a writable emptyDir mount of the container.
func writableEmptyDir(spec corev1.PodSpec, c corev1.Container, dir string) bool {
	for _, m := range c.VolumeMounts {
		if m.ReadOnly || (dir != m.MountPath && !strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/")) {
			continue
		}
		if slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name && v.EmptyDir != nil }) {
			return true
		}
	}
	return false
}

// probeBudget is how long a probe lets a container fail before it acts.
func probeBudget(p *corev1.Probe) time.Duration {
	period, failures := p.PeriodSeconds, p.FailureThreshold
	if period == 0 {
		period = 10
	}
	if failures == 0 {
		failures = 3
	}
	return time.Duration(p.InitialDelaySeconds+period*failures) * time.Second
}

// Long-running containers have startup, readiness and liveness probes on ports they
// listen on, and a startup budget for what they do before they listen: the referential
// loads its current version (about 160 MB) first. Every container states its resources.
func TestKubernetesProbesAndResources(t *testing.T) {
	minStartup := map[string]time.Duration{"referential": 3 * time.Minute}
	for _, pod := range podsOf(renderDeployment(t)) {
		for _, c := range slices.Concat(pod.spec.InitContainers, pod.spec.Containers) {
			req, lim := c.Resources.Requests, c.Resources.Limits
			if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
				t.Errorf("%s container %s: resources = %+v, want cpu and memory requests and a memory limit", pod.owner, c.Name, c.Resources)
			}
			if !pod.longRunning {
				continue
			}
			for what, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				if p == nil || p.HTTPGet == nil {
					t.Errorf("%s container %s has no HTTP %s probe", pod.owner, c.Name, what)
				} else if containerPort(pod.spec, p.HTTPGet.Port) == 0 {
					t.Errorf("%s container %s: %s probe on port %s, where it does not listen", pod.owner, c.Name, what, p.HTTPGet.Port.String())
				}
			}
			if c.StartupProbe == nil {
				continue
			}
			want := 30 * time.Second
			if d, ok := minStartup[c.Name]; ok {
				want = d
			}
			if got := probeBudget(c.StartupProbe); got < want {
				t.Errorf("%s container %s: the startup probe gives up after %s, want at least %s", pod.owner, c.Name, got, want)
			}
		}
	}
}

// Deployments that scale (all but the singletons below) run at least two replicas under
// an autoscaler that owns their count, and a disruption budget lets a drain take one at a
// time. Selectors pick the pods of one workload only (a migration Job's pods carry the
// service's name too, and must not count in its budget, autoscaler nor Service).
func TestKubernetesScaling(t *testing.T) {
	singletons := map[string]string{
		"otel-collector": "each service instance's metrics must reach one Prometheus endpoint",
	}
	objs := renderDeployment(t)
	pods := podsOf(objs)
	selectedOwners := func(sel *metav1.LabelSelector) []string {
		var owners []string
		for _, p := range pods {
			if selects(sel, p.labels) {
				owners = append(owners, p.owner)
			}
		}
		return owners
	}
	hpas := ofType[*autoscalingv2.HorizontalPodAutoscaler](objs)
	pdbs := ofType[*policyv1.PodDisruptionBudget](objs)
	for _, d := range ofType[*appsv1.Deployment](objs) {
		if owners := selectedOwners(d.Spec.Selector); !slices.Equal(owners, []string{objectKey(d)}) {
			t.Errorf("Deployment %s's selector picks the pods of %v", d.Name, owners)
		}
		i := slices.IndexFunc(hpas, func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
			ref := h.Spec.ScaleTargetRef
			return ref.APIVersion == "apps/v1" && ref.Kind == "Deployment" && ref.Name == d.Name
		})
		budgets := slices.DeleteFunc(slices.Clone(pdbs), func(b *policyv1.PodDisruptionBudget) bool {
			return !selects(b.Spec.Selector, d.Spec.Template.Labels)
		})
		if why, ok := singletons[d.Name]; ok {
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || i >= 0 || len(budgets) > 0 {
				t.Errorf("Deployment %s runs one replica (%s): want replicas 1, no autoscaler, no disruption budget", d.Name, why)
			}
			continue
		}

		if i < 0 {
			t.Errorf("Deployment %s has no HorizontalPodAutoscaler", d.Name)
		} else {
			h := hpas[i]
			minimum := int32(1) // the API's default
			if h.Spec.MinReplicas != nil {
				minimum = *h.Spec.MinReplicas
			}
			if minimum < 2 || h.Spec.MaxReplicas <= minimum || len(h.Spec.Metrics) == 0 {
				t.Errorf("HorizontalPodAutoscaler %s: min %d, max %d, %d metrics: want at least 2 replicas, room to grow and a metric",
					h.Name, minimum, h.Spec.MaxReplicas, len(h.Spec.Metrics))
			}
			if d.Spec.Replicas != nil {
				t.Errorf("Deployment %s sets replicas, which every apply would reset under its autoscaler", d.Name)
			}
		}

		if len(budgets) != 1 {
			t.Errorf("Deployment %s has %d PodDisruptionBudgets, want one", d.Name, len(budgets))
			continue
		}
		b := budgets[0]
		if owners := selectedOwners(b.Spec.Selector); !slices.Equal(owners, []string{objectKey(d)}) {
			t.Errorf("PodDisruptionBudget %s picks the pods of %v", b.Name, owners)
		}
		// At the autoscaler's minimum, one pod may go and one must stay.
		replicas := 2
		if i >= 0 && hpas[i].Spec.MinReplicas != nil && *hpas[i].Spec.MinReplicas > 2 {
			replicas = int(*hpas[i].Spec.MinReplicas)
		}
		available := replicas
		switch {
		case b.Spec.MaxUnavailable != nil:
			n, err := intstr.GetScaledValueFromIntOrPercent(b.Spec.MaxUnavailable, replicas, true)
			if err == nil {
				available = replicas - n
			}
		case b.Spec.MinAvailable != nil:
			if n, err := intstr.GetScaledValueFromIntOrPercent(b.Spec.MinAvailable, replicas, true); err == nil {
				available = n
			}
		}
		if available < 1 || available >= replicas {
			t.Errorf("PodDisruptionBudget %s keeps %d of %d pods, want at least one kept and one allowed to go", b.Name, available, replicas)
		}
	}
	for name := range singletons {
		if _, ok := named[*appsv1.Deployment](objs, name); !ok {
			t.Errorf("singleton %s is no Deployment", name)
		}
	}
	for _, svc := range ofType[*corev1.Service](objs) {
		owners := selectedOwners(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector})
		if len(owners) != 1 || !strings.HasPrefix(owners[0], "Deployment/") {
			t.Errorf("Service %s selects the pods of %v, want one Deployment's", svc.Name, owners)
		}
	}
}

// The Ingress publishes exactly, over TLS, to Services and ports that exist: the console
// (CONSOLE_PUBLIC_URL), and at INTAKE_PUBLIC_URL the intake's Graph webhook (the route
// Graph's subscriptions name) and its codec routes, which the Temporal UI (whose origin the
// intake lets in) decrypts histories with.
func TestKubernetesIngress(t *testing.T) {
	const webhook, codec = "/webhooks/graph", "/codec"
	routes := intakeRoutes(t)
	for _, path := range []string{webhook, codec + "/decode", codec + "/encode"} {
		if !routes[path] {
			t.Errorf("the intake serves no %s", path)
		}
	}

	objs := renderDeployment(t)
	config := mustNamed[*corev1.ConfigMap](t, objs, k8sConfigMapName)
	type route struct{ host, path, pathType, service string }
	want := []route{
		{publicHost(t, config.Data["CONSOLE_PUBLIC_URL"]), "/", "Prefix", "console"},
		{publicHost(t, config.Data["INTAKE_PUBLIC_URL"]), webhook, "Exact", "intake"},
		{publicHost(t, config.Data["INTAKE_PUBLIC_URL"]), codec, "Prefix", "intake"},
	}
	if ui := "https://" + publicHost(t, config.Data["TEMPORAL_UI_URL"]); !slices.Contains(strings.Split(config.Data["TEMPORAL_CODEC_CORS_ORIGINS"], ","), ui) {
		t.Errorf("TEMPORAL_CODEC_CORS_ORIGINS = %q, want the Temporal UI's origin %s", config.Data["TEMPORAL_CODEC_CORS_ORIGINS"], ui)
	}
	var got []route
	for _, ing := range ofType[*networkingv1.Ingress](objs) {
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName == "" {
			t.Errorf("Ingress %s names no ingress class", ing.Name)
		}
		for _, rule := range ing.Spec.Rules {
			if !slices.ContainsFunc(ing.Spec.TLS, func(tls networkingv1.IngressTLS) bool {
				return tls.SecretName != "" && slices.Contains(tls.Hosts, rule.Host)
			}) {
				t.Errorf("Ingress %s serves %s without TLS", ing.Name, rule.Host)
			}
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				backend := p.Backend.Service
				if backend == nil {
					t.Errorf("Ingress %s: %s%s goes to no Service", ing.Name, rule.Host, p.Path)
					continue
				}
				got = append(got, route{rule.Host, p.Path, string(*p.PathType), backend.Name})
				svc, ok := named[*corev1.Service](objs, backend.Name)
				if !ok {
					t.Errorf("Ingress %s: %s%s goes to Service %s, which does not exist", ing.Name, rule.Host, p.Path, backend.Name)
					continue
				}
				port := backend.Port.Name
				if port == "" {
					port = strconv.Itoa(int(backend.Port.Number))
				}
				d, ok := deploymentSelectedBy(objs, svc.Spec.Selector)
				if !ok {
					t.Errorf("Service %s selects no Deployment", svc.Name)
				} else if _, ok := servicePortTarget(svc, port, d.Spec.Template.Spec); !ok {
					t.Errorf("Ingress %s: %s%s goes to port %s of Service %s, which leads to no container port", ing.Name, rule.Host, p.Path, port, svc.Name)
				}
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the Ingress routes %+v, want exactly %+v", got, want)
	}
}

// intakeRoutes are the paths the intake's API package registers (the quoted paths of its
// source).
func intakeRoutes(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "services", "intake", "internal", "api", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the intake's API package: %v", err)
	}
	routes := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range quotedPath.FindAllStringSubmatch(string(b), -1) {
			routes[m[1]] = true
		}
	}
	return routes
}

var quotedPath = regexp.MustCompile(`"(/[a-z][a-z0-9/:_-]*)"`)

// publicHost is the host of an https URL of rome-config.
func publicHost(t *testing.T, raw string) string {
	t.Helper()
	host, ok := strings.CutPrefix(raw, "https://")
	if !ok || host == "" || strings.ContainsAny(host, "/:") {
		t.Fatalf("%q is not an https URL at the root of a host", raw)
	}
	return host
}

// Every service with a database has a migration Job running its image with its settings
// and `service migrate` (the referential's command, platform/service's for the others). The
// worker has no database.
func TestKubernetesMigrationJobs(t *testing.T) {
	root := repoRoot(t)
	objs := renderDeployment(t)
	for _, s := range services {
		main, err := os.ReadFile(filepath.Join(root, "services", s.name, "cmd", s.name, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		hasDatabase := strings.Contains(string(main), "Migrations:") || strings.Contains(string(main), `case "migrate":`)
		var jobs []*batchv1.Job
		for _, j := range ofType[*batchv1.Job](objs) {
			if l := j.Spec.Template.Labels; l["app.kubernetes.io/name"] == s.name && l["app.kubernetes.io/component"] == "migration" {
				jobs = append(jobs, j)
			}
		}
		if !hasDatabase {
			if len(jobs) > 0 {
				t.Errorf("%s has no database but migration Job %s", s.name, jobs[0].Name)
			}
			continue
		}
		if len(jobs) != 1 {
			t.Errorf("%s has a database and %d migration Jobs, want one", s.name, len(jobs))
			continue
		}
		job, dep := jobs[0], mustNamed[*appsv1.Deployment](t, objs, s.name)
		jc, dc := job.Spec.Template.Spec.Containers, dep.Spec.Template.Spec.Containers
		if len(jc) != 1 || len(dc) != 1 {
			t.Fatalf("Job %s and Deployment %s: want one container each", job.Name, dep.Name)
		}
		if jc[0].Image != dc[0].Image || !equality.Semantic.DeepEqual(jc[0].EnvFrom, dc[0].EnvFrom) {
			t.Errorf("Job %s runs %s with %+v, want the Deployment's %s with %+v", job.Name, jc[0].Image, jc[0].EnvFrom, dc[0].Image, dc[0].EnvFrom)
		}
		if command := strings.Join(slices.Concat(jc[0].Command, jc[0].Args), " "); !strings.Contains(command, "service migrate") {
			t.Errorf("Job %s runs %q, want `service migrate`", job.Name, command)
		}
	}
}

// mountsFile reports whether the container sees content at path, from a rendered ConfigMap.
func mountsFile(objs []k8sObject, spec corev1.PodSpec, c corev1.Container, path, content string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath != filepath.Dir(path) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			if cm, ok := named[*corev1.ConfigMap](objs, v.ConfigMap.Name); ok && cm.Data[filepath.Base(path)] == content {
				return true
			}
		}
	}
	return false
}
