package devstack

import (
	"slices"
	"strings"
	"testing"
)

func TestReplicasFromEnv(t *testing.T) {
	for _, tc := range []struct {
		replicas, database string
		want               int
		wantErr            string
	}{
		{replicas: "", want: 1},
		{replicas: "", database: "postgres://postgres@127.0.0.1:5432/rome", want: 1},
		{replicas: "2", database: "postgres://postgres@127.0.0.1:5432/rome", want: 2},
		{replicas: "2", wantErr: "needs PostgreSQL"},
		{replicas: "-1", database: "postgres://postgres@127.0.0.1:5432/rome", wantErr: "1 or more"},
		{replicas: "two", database: "postgres://postgres@127.0.0.1:5432/rome", wantErr: "ROME_REPLICAS"},
	} {
		setEnv(t, map[string]string{"ROME_REPLICAS": tc.replicas, "DATABASE_URL": tc.database})
		o, err := OptionsFromEnv()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ROME_REPLICAS=%q DATABASE_URL=%q: err = %v, want one saying %q", tc.replicas, tc.database, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("ROME_REPLICAS=%q DATABASE_URL=%q: %v", tc.replicas, tc.database, err)
		case o.Replicas != tc.want:
			t.Errorf("ROME_REPLICAS=%q: Replicas = %d, want %d", tc.replicas, o.Replicas, tc.want)
		}
	}
}

// One replica is the service as it always was: its own name, its public port, its
// environment untouched.
func TestOneReplicaIsTheServiceItself(t *testing.T) {
	o := Options{Replicas: 1, Ports: Ports{Intake: 8081, Worker: 8084}}
	for _, svc := range services {
		reps := o.replicasOf(svc, nil)
		if want := []Replica{{Name: svc.name, Port: *svc.port.port(&o.Ports)}}; !slices.Equal(reps, want) {
			t.Errorf("%s: replicas %+v, want %+v", svc.name, reps, want)
		}
		if got, want := o.replicaEnv(svc, reps[0], nil), o.serviceEnv(svc.name, nil); !slices.Equal(got, want) {
			t.Errorf("%s: the environment of its one replica differs from the service's:\n%v\n%v", svc.name, got, want)
		}
	}
}

// Several replicas are named <service>-<i>, each on its own port, and agree on the dev
// issuer: the intake's public address (the proxy), not a replica's.
func TestReplicasNamesPortsAndIssuer(t *testing.T) {
	o := Options{Replicas: 2, Ports: Ports{Intake: 8081, Referential: 8082}, DatabaseURL: "postgres://x"}
	intake := services[0]
	reps := o.replicasOf(intake, []int{40001, 40002})
	want := []Replica{{Name: "intake-1", Port: 40001}, {Name: "intake-2", Port: 40002}}
	if !slices.Equal(reps, want) {
		t.Fatalf("replicas %+v, want %+v", reps, want)
	}
	if reps[1].URL() != "http://127.0.0.1:40002" {
		t.Errorf("URL = %s", reps[1].URL())
	}
	env := o.replicaEnv(intake, reps[1], nil)
	for key, want := range map[string]string{
		"INTAKE_PORT":    "40002",
		"DEV_ISSUER_URL": "http://127.0.0.1:8081/dev",
		"INTAKE_URL":     "http://127.0.0.1:8081", // the others reach the intake through its proxy
	} {
		if got := lookup(env, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if got := lookup(o.replicaEnv(services[1], Replica{Name: "referential-1", Port: 40003}, nil), "REFERENTIAL_PORT"); got != "40003" {
		t.Errorf("the referential's replica listens on %q, want its own port", got)
	}
}

// planReplicas gives every replica of every service a port of its own.
func TestPlanReplicasDistinctPorts(t *testing.T) {
	s := &Stack{Options: Options{Replicas: 2, Log: &strings.Builder{}}}
	if err := s.planReplicas(); err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, svc := range services {
		reps := s.Replicas(svc.name)
		if len(reps) != 2 || reps[0].Name != svc.name+"-1" || reps[1].Name != svc.name+"-2" {
			t.Errorf("%s: replicas %+v", svc.name, reps)
		}
		for _, r := range reps {
			if other, ok := seen[r.Port]; ok || r.Port == 0 {
				t.Errorf("%s on port %d, as %s", r.Name, r.Port, other)
			}
			seen[r.Port] = r.Name
		}
	}
}
