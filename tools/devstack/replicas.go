package devstack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
)

// Replica is one process of a service. With Options.Replicas = 1 it is the service itself,
// named after it, on its public port; with more, each is named <service>-<i> (intake-1,
// intake-2…) and listens on a free port of its own, behind a TCPProxy on the public port
// that every client and every other service reaches them through, round robin.
type Replica struct {
	Name string // what Stack.Kill and Stack.Restart take
	Port int
}

// URL is where the replica itself answers, bypassing the proxy.
func (r Replica) URL() string { return localURL(r.Port) }

// resolveReplicas defaults Replicas to 1 and refuses what cannot work.
func (o *Options) resolveReplicas() error {
	switch {
	case o.Replicas == 0:
		o.Replicas = 1
	case o.Replicas < 0:
		return fmt.Errorf("ROME_REPLICAS=%d: want 1 or more processes of each service", o.Replicas)
	case o.Replicas > 1 && o.DatabaseURL == "":
		// A SQLite file belongs to one process, and the referential's replicas learn of each
		// other's publications through PostgreSQL's LISTEN/NOTIFY.
		return fmt.Errorf("ROME_REPLICAS=%d needs PostgreSQL (DATABASE_URL): replicas share one database, which SQLite files are not", o.Replicas)
	}
	return nil
}

// replicasOf names svc's processes and gives them their ports: its public one when
// Replicas is 1, else ports, one each.
func (o Options) replicasOf(svc service, ports []int) []Replica {
	if o.Replicas == 1 {
		return []Replica{{Name: svc.name, Port: *svc.port.port(&o.Ports)}}
	}
	reps := make([]Replica, o.Replicas)
	for i := range reps {
		reps[i] = Replica{Name: svc.name + "-" + strconv.Itoa(i+1), Port: ports[i]}
	}
	return reps
}

// planReplicas picks every service's replicas, their ports taken together so that no two
// are the same.
func (s *Stack) planReplicas() error {
	o := s.Options
	var ports []int
	if o.Replicas > 1 {
		var err error
		if ports, err = FreePorts(o.Replicas * len(services)); err != nil {
			return err
		}
		s.logf("%d replicas of each service, behind round-robin proxies on the services' ports", o.Replicas)
	}
	s.replicas = map[string][]Replica{}
	for i, svc := range services {
		var own []int
		if ports != nil {
			own = ports[i*o.Replicas : (i+1)*o.Replicas]
		}
		s.replicas[svc.name] = o.replicasOf(svc, own)
	}
	return nil
}

// Replicas lists a service's processes ("intake", "worker"…), in order.
func (s *Stack) Replicas(service string) []Replica { return s.replicas[service] }

// replicaEnv is serviceEnv for one replica: its own port, and, with several, the dev
// issuer named after the intake's public address, the proxy's, so that a token minted by
// one intake replica is good on every service (auth.DevIssuerURLFromEnv).
func (o Options) replicaEnv(svc service, r Replica, base []string) []string {
	env := o.serviceEnv(svc.name, base)
	if o.Replicas == 1 {
		return env
	}
	return append(env, svc.port.env+"="+strconv.Itoa(r.Port), "DEV_ISSUER_URL="+localURL(o.Ports.Intake)+"/dev")
}

// startReplicas launches svc's replicas, and with several the proxy on its public port,
// and returns the children to wait on.
func (s *Stack) startReplicas(svc service) ([]*child, error) {
	reps := s.replicas[svc.name]
	started := make([]*child, 0, len(reps))
	backends := make([]string, 0, len(reps))
	for _, r := range reps {
		url := r.URL() + "/readyz"
		c := s.newChild(r.Name, s.bin(svc.name), s.Options.replicaEnv(svc, r, os.Environ()), nil,
			func(ctx context.Context, p *process) error { return waitHTTP(ctx, url, http.StatusOK, p) })
		s.services = append(s.services, c)
		if err := s.launchChild(c); err != nil {
			return nil, err
		}
		started = append(started, c)
		backends = append(backends, "127.0.0.1:"+strconv.Itoa(r.Port))
	}
	if len(reps) > 1 {
		proxy, err := StartTCPProxy("127.0.0.1:"+strconv.Itoa(*svc.port.port(&s.Options.Ports)), backends)
		if err != nil {
			return nil, fmt.Errorf("%s's proxy: %w", svc.name, err)
		}
		s.serviceProxies = append(s.serviceProxies, proxy)
	}
	return started, nil
}
