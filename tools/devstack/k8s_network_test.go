package devstack

// The NetworkPolicies, evaluated as a network plugin enforces them: every flow from every
// pod (and from the cluster's other parts and the Internet) to every port the pods and the
// platform's dependencies listen on passes only when it is one the architecture draws.

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// netEndpoint is a pod of the namespace, a pod elsewhere in the cluster, or an address
// outside it.
type netEndpoint struct {
	name      string // a workload (Kind/name) of ours, or what the address stands for
	namespace string // "" outside the cluster
	nsLabels  map[string]string
	labels    map[string]string
	ip        netip.Addr
	spec      corev1.PodSpec // ours: for named ports
}

type netPort struct {
	port  int32
	proto corev1.Protocol
}

func (e netEndpoint) to(p netPort) string { return fmt.Sprintf("%s:%d/%s", e.name, p.port, p.proto) }

// admits reports whether the policies that select pod for direction let it exchange with
// peer on port (of the destination dst). A pod no policy selects for a direction is not
// isolated in it.
func admits(pols []*networkingv1.NetworkPolicy, direction networkingv1.PolicyType, pod, peer, dst netEndpoint, port netPort) bool {
	isolated := false
	for _, p := range pols {
		if p.Namespace != pod.namespace || !selects(&p.Spec.PodSelector, pod.labels) || !slices.Contains(p.Spec.PolicyTypes, direction) {
			continue
		}
		isolated = true
		if direction == networkingv1.PolicyTypeEgress {
			for _, r := range p.Spec.Egress {
				if peersMatch(r.To, peer, p.Namespace) && portsMatch(r.Ports, port, dst.spec) {
					return true
				}
			}
		} else {
			for _, r := range p.Spec.Ingress {
				if peersMatch(r.From, peer, p.Namespace) && portsMatch(r.Ports, port, dst.spec) {
					return true
				}
			}
		}
	}
	return !isolated
}

// peersMatch: no peer means every peer.
func peersMatch(peers []networkingv1.NetworkPolicyPeer, e netEndpoint, policyNamespace string) bool {
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		if b := peer.IPBlock; b != nil {
			if inCIDR(b.CIDR, e.ip) && !slices.ContainsFunc(b.Except, func(c string) bool { return inCIDR(c, e.ip) }) {
				return true
			}
			continue
		}
		if e.namespace == "" {
			continue
		}
		nsMatch := e.namespace == policyNamespace
		if peer.NamespaceSelector != nil {
			nsMatch = selects(peer.NamespaceSelector, e.nsLabels)
		}
		if nsMatch && (peer.PodSelector == nil || selects(peer.PodSelector, e.labels)) {
			return true
		}
	}
	return false
}

func inCIDR(cidr string, ip netip.Addr) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Contains(ip)
}

// portsMatch: no port means every port; a named port is the destination's.
func portsMatch(ports []networkingv1.NetworkPolicyPort, p netPort, dst corev1.PodSpec) bool {
	if len(ports) == 0 {
		return true
	}
	for _, np := range ports {
		proto := corev1.ProtocolTCP
		if np.Protocol != nil {
			proto = *np.Protocol
		}
		if proto != p.proto {
			continue
		}
		switch {
		case np.Port == nil:
			return true
		case np.Port.Type == intstr.String:
			if containerPort(dst, *np.Port) == p.port {
				return true
			}
		case np.Port.IntVal == p.port || (np.EndPort != nil && np.Port.IntVal <= p.port && p.port <= *np.EndPort):
			return true
		}
	}
	return false
}

// clusterAddress reads "<service>.<namespace>.svc[...]:<port>" (a URL or host:port).
func clusterAddress(t *testing.T, what, addr string) (namespace string, port int32) {
	t.Helper()
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	host, p, err := net.SplitHostPort(addr)
	labels := strings.Split(host, ".")
	n, perr := strconv.Atoi(p)
	if err != nil || perr != nil || len(labels) < 3 || labels[2] != "svc" {
		t.Fatalf("%s = %q: want <service>.<namespace>.svc...:<port>", what, addr)
	}
	return labels[1], int32(n)
}

func TestKubernetesNetworkPolicies(t *testing.T) {
	objs := renderDeployment(t)
	pols := ofType[*networkingv1.NetworkPolicy](objs)
	pods := podsOf(objs)
	config := mustNamed[*corev1.ConfigMap](t, objs, k8sConfigMapName)
	secret := mustNamed[*corev1.Secret](t, objs, k8sSecretName)
	collector := mustNamed[*appsv1.Deployment](t, objs, "otel-collector")

	// Deny by default: one policy isolates every pod both ways and lets nothing through.
	if !slices.ContainsFunc(pols, func(p *networkingv1.NetworkPolicy) bool {
		return len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0 &&
			slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) &&
			len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0
	}) {
		t.Error("no NetworkPolicy denies every ingress and egress by default")
	}
	// Every selector of the namespace's pods picks some.
	anyPod := func(sel func(k8sPod) bool) bool { return slices.ContainsFunc(pods, sel) }
	for _, p := range pols {
		if !anyPod(func(pod k8sPod) bool { return selects(&p.Spec.PodSelector, pod.labels) }) {
			t.Errorf("NetworkPolicy %s selects no pod", p.Name)
		}
		var peers []networkingv1.NetworkPolicyPeer
		for _, r := range p.Spec.Ingress {
			peers = append(peers, r.From...)
		}
		for _, r := range p.Spec.Egress {
			peers = append(peers, r.To...)
		}
		for _, peer := range peers {
			if peer.PodSelector != nil && peer.NamespaceSelector == nil && !anyPod(func(pod k8sPod) bool { return selects(peer.PodSelector, pod.labels) }) {
				t.Errorf("NetworkPolicy %s names peer pods %v, which do not exist", p.Name, peer.PodSelector)
			}
		}
	}

	// The platform's dependencies, where the settings say they are.
	dbURL, err := url.Parse(secret.StringData["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	dbNamespace, dbPort := clusterAddress(t, "DATABASE_URL", dbURL.Host)
	temporalNamespace, temporalPort := clusterAddress(t, "TEMPORAL_ADDRESS", config.Data["TEMPORAL_ADDRESS"])
	var tracesEndpoint string
	for _, e := range collector.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "TRACES_OTLP_ENDPOINT" {
			tracesEndpoint = e.Value
		}
	}
	tracesNamespace, tracesPort := clusterAddress(t, "TRACES_OTLP_ENDPOINT", tracesEndpoint)
	_, smtp, err := net.SplitHostPort(config.Data["SMTP_ADDR"])
	smtpPort, perr := strconv.Atoi(smtp)
	if err != nil || perr != nil {
		t.Fatalf("SMTP_ADDR = %q: want host:port", config.Data["SMTP_ADDR"])
	}

	// Endpoints: the namespace's pods, then the rest of the cluster and the Internet.
	ns := mustNamed[*corev1.Namespace](t, objs, k8sNamespace)
	inCluster := func(name, namespace string, labels map[string]string, ip string) netEndpoint {
		return netEndpoint{name: name, namespace: namespace, labels: labels, ip: netip.MustParseAddr(ip),
			nsLabels: map[string]string{"kubernetes.io/metadata.name": namespace}}
	}
	outside := func(name, ip string) netEndpoint { return netEndpoint{name: name, ip: netip.MustParseAddr(ip)} }
	tcp := func(ports ...int32) []netPort {
		var out []netPort
		for _, p := range ports {
			out = append(out, netPort{p, corev1.ProtocolTCP})
		}
		return out
	}
	type target struct {
		endpoint netEndpoint
		ports    []netPort
	}
	var ours []netEndpoint
	var targets []target
	for i, pod := range pods {
		e := netEndpoint{name: pod.owner, namespace: k8sNamespace, labels: pod.labels, spec: pod.spec,
			ip: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), nsLabels: map[string]string{"kubernetes.io/metadata.name": k8sNamespace}}
		for k, v := range ns.Labels {
			e.nsLabels[k] = v
		}
		ours = append(ours, e)
		// A migration Job runs its service, listening on the service's ports: nobody may
		// reach it there.
		spec := pod.spec
		if d, ok := named[*appsv1.Deployment](objs, pod.labels["app.kubernetes.io/name"]); ok && !pod.longRunning {
			spec, e.spec = d.Spec.Template.Spec, d.Spec.Template.Spec
		}
		var ports []netPort
		for _, c := range spec.Containers {
			for _, p := range c.Ports {
				ports = append(ports, netPort{p.ContainerPort, corev1.ProtocolTCP})
			}
		}
		targets = append(targets, target{e, ports})
	}
	var (
		postgres      = inCluster("postgres", dbNamespace, map[string]string{"app": "postgres"}, "10.1.0.1")
		temporal      = inCluster("temporal", temporalNamespace, map[string]string{"app.kubernetes.io/component": "frontend"}, "10.1.0.2")
		dns           = inCluster("kube-dns", "kube-system", map[string]string{"k8s-app": "kube-dns"}, "10.1.0.3")
		ingress       = inCluster("ingress-controller", "ingress-nginx", map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, "10.1.0.4")
		prometheus    = inCluster("prometheus", "monitoring", map[string]string{"app.kubernetes.io/name": "prometheus"}, "10.1.0.5")
		traces        = inCluster("traces-backend", tracesNamespace, map[string]string{"app.kubernetes.io/name": "jaeger"}, "10.1.0.6")
		otherNS       = inCluster("other-namespace", "default", map[string]string{"app": "other"}, "10.1.0.7")
		internet      = outside("internet", "203.0.113.10")
		metadata      = outside("metadata-service", "169.254.169.254")
		privateSubnet = outside("private-network", "192.168.1.10")
	)
	targets = append(targets,
		target{postgres, tcp(dbPort)},
		target{temporal, tcp(temporalPort)},
		target{dns, []netPort{{53, corev1.ProtocolUDP}, {53, corev1.ProtocolTCP}}},
		target{traces, tcp(tracesPort)},
		target{otherNS, tcp(8080)},
		target{internet, tcp(443, int32(smtpPort), 25, 80)},
		target{metadata, tcp(80, 443)},
		target{privateSubnet, tcp(443, int32(smtpPort))},
	)
	sources := append(slices.Clone(ours), ingress, prometheus, otherNS, internet)

	// The flows the architecture draws (README, "Kubernetes"). A migration Job has its
	// service's egress (it runs the service).
	service := func(name string) string {
		i := slices.IndexFunc(services, func(s service) bool { return s.name == name })
		return fmt.Sprintf("Deployment/%s:%d/TCP", name, services[i].port.def)
	}
	collectorPort := func(name string) string {
		for _, p := range collector.Spec.Template.Spec.Containers[0].Ports {
			if p.Name == name {
				return fmt.Sprintf("Deployment/%s:%d/TCP", collector.Name, p.ContainerPort)
			}
		}
		t.Fatalf("the collector has no port %s", name)
		return ""
	}
	db, frontend, https := postgres.to(tcp(dbPort)[0]), temporal.to(tcp(temporalPort)[0]), internet.to(tcp(443)[0])
	calls := map[string][]string{
		"console":                    {service("intake"), service("referential"), service("notifications"), db, https},
		"intake":                     {service("referential"), service("notifications"), frontend, db, https},
		"referential":                {service("intake"), db, https},
		"notifications":              {service("intake"), service("referential"), db, https, internet.to(tcp(int32(smtpPort))[0])},
		"worker":                     {service("intake"), service("referential"), service("notifications"), frontend, https},
		"temporal-search-attributes": {frontend},
		"otel-collector":             {traces.to(tcp(tracesPort)[0])},
		ingress.name:                 {service("console"), service("intake")},
		prometheus.name:              {collectorPort("metrics")},
	}
	want := map[string]bool{}
	for _, src := range sources {
		role := src.name
		if src.namespace == k8sNamespace {
			role = src.labels["app.kubernetes.io/name"]
			for _, to := range []string{dns.to(netPort{53, corev1.ProtocolUDP}), dns.to(netPort{53, corev1.ProtocolTCP}),
				collectorPort("otlp-grpc"), collectorPort("otlp-http")} {
				if !strings.HasPrefix(to, src.name+":") { // the collector itself
					want[src.name+" → "+to] = true
				}
			}
		}
		for _, to := range calls[role] {
			want[src.name+" → "+to] = true
		}
	}

	// A drawn flow passes both ends; any other is refused at each end in the namespace,
	// so that one policy too many does not open it.
	checked := map[string]bool{}
	for _, src := range sources {
		for _, dst := range targets {
			if src.name == dst.endpoint.name || (src.namespace != k8sNamespace && dst.endpoint.namespace != k8sNamespace) {
				continue // a pod talks to itself freely; flows outside the namespace are not ours
			}
			for _, port := range dst.ports {
				flow := src.name + " → " + dst.endpoint.to(port)
				checked[flow] = true
				egress := src.namespace == k8sNamespace && admits(pols, networkingv1.PolicyTypeEgress, src, dst.endpoint, dst.endpoint, port)
				ingress := dst.endpoint.namespace == k8sNamespace && admits(pols, networkingv1.PolicyTypeIngress, dst.endpoint, src, dst.endpoint, port)
				switch {
				case want[flow] && (egress || src.namespace != k8sNamespace) && (ingress || dst.endpoint.namespace != k8sNamespace):
				case want[flow]:
					t.Errorf("blocked: %s", flow)
				case egress:
					t.Errorf("let out by %s's egress, though the architecture draws no such flow: %s", src.name, flow)
				case ingress:
					t.Errorf("let in by %s's ingress, though the architecture draws no such flow: %s", dst.endpoint.name, flow)
				}
			}
		}
	}
	for flow := range want {
		if !checked[flow] {
			t.Errorf("drawn but not among the endpoints checked: %s", flow)
		}
	}
	if len(want) < 50 {
		t.Errorf("only %d flows expected: the matrix lost its pods", len(want))
	}
}
