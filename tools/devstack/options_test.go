package devstack

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// setEnv gives every variable OptionsFromEnv reads a value, empty meaning unset, so the
// caller's environment cannot leak into a test.
func setEnv(t *testing.T, m map[string]string) {
	for _, k := range []string{"ROME_STATE_DIR", "ROME_DATA_DIR", "DATABASE_URL", "ROME_DEV_MODE", "TEMPORAL_ADDRESS",
		"TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "CONSOLE_PORT", "INTAKE_PORT", "REFERENTIAL_PORT", "NOTIFICATIONS_PORT", "WORKER_PORT", "TEMPORAL_UI_PORT",
		"GRAPH_EMULATOR_PORT", "SMTP_SINK_PORT", "SMTP_SINK_HTTP_PORT", "ROME_TEMPORAL", "ROME_TEMPORAL_DATABASE_URL",
		"ROME_TEMPORAL_VISIBILITY_DATABASE_URL", "ROME_REPLICAS"} {
		t.Setenv(k, m[k])
	}
}

func TestOptionsFromEnvDefaults(t *testing.T) {
	setEnv(t, nil)
	o, err := OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if o.RepoRoot != root {
		t.Errorf("RepoRoot = %q, want %q", o.RepoRoot, root)
	}
	if want := filepath.Join(root, ".dev"); o.StateDir != want {
		t.Errorf("StateDir = %q, want %q", o.StateDir, want)
	}
	if want := filepath.Join(root, ".dev", "bin"); o.ToolsDir != want {
		t.Errorf("ToolsDir = %q, want %q", o.ToolsDir, want)
	}
	if want := DefaultDataDir(root); o.DataDir != want {
		t.Errorf("DataDir = %q, want %q", o.DataDir, want)
	}
	want := Ports{Console: 8080, Intake: 8081, Referential: 8082, Notifications: 8083, Worker: 8084, TemporalUI: 8233, Graph: 8090, SMTP: 2525, Mail: 8025}
	if o.Ports != want {
		t.Errorf("Ports = %+v, want %+v", o.Ports, want)
	}
	if o.TemporalAddress != "127.0.0.1:7233" || o.TemporalNamespace != "default" || o.TaskQueue != "rome-requests" {
		t.Errorf("Temporal settings = %q %q %q", o.TemporalAddress, o.TemporalNamespace, o.TaskQueue)
	}
	if !o.DevMode {
		t.Error("DevMode is off by default; make dev needs the dev token endpoint")
	}
	if o.DatabaseURL != "" {
		t.Errorf("DatabaseURL = %q, want empty (SQLite)", o.DatabaseURL)
	}
}

func TestOptionsFromEnvOverrides(t *testing.T) {
	setEnv(t, map[string]string{
		"ROME_STATE_DIR":      "some/state",
		"ROME_DATA_DIR":       "/data/rome4",
		"DATABASE_URL":        "postgres://u@db:5432/rome",
		"ROME_DEV_MODE":       "false",
		"CONSOLE_PORT":        "9080",
		"INTAKE_PORT":         "9081",
		"REFERENTIAL_PORT":    "9082",
		"NOTIFICATIONS_PORT":  "9083",
		"WORKER_PORT":         "9084",
		"TEMPORAL_UI_PORT":    "9233",
		"GRAPH_EMULATOR_PORT": "9090",
		"SMTP_SINK_PORT":      "3525",
		"SMTP_SINK_HTTP_PORT": "9025",
		"TEMPORAL_ADDRESS":    "127.0.0.1:9233",
		"TEMPORAL_NAMESPACE":  "rome",
		"TEMPORAL_TASK_QUEUE": "q",
	})
	o, err := OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if want := filepath.Join(wd, "some/state"); o.StateDir != want {
		t.Errorf("StateDir = %q, want %q (relative to the working directory)", o.StateDir, want)
	}
	if o.DataDir != "/data/rome4" || o.DatabaseURL != "postgres://u@db:5432/rome" || o.DevMode {
		t.Errorf("DataDir %q, DatabaseURL %q, DevMode %v", o.DataDir, o.DatabaseURL, o.DevMode)
	}
	want := Ports{Console: 9080, Intake: 9081, Referential: 9082, Notifications: 9083, Worker: 9084, TemporalUI: 9233, Graph: 9090, SMTP: 3525, Mail: 9025}
	if o.Ports != want {
		t.Errorf("Ports = %+v, want %+v", o.Ports, want)
	}
	if o.TemporalAddress != "127.0.0.1:9233" || o.TemporalNamespace != "rome" || o.TaskQueue != "q" {
		t.Errorf("Temporal settings = %q %q %q", o.TemporalAddress, o.TemporalNamespace, o.TaskQueue)
	}
}

func TestOptionsFromEnvRejectsBadValues(t *testing.T) {
	for _, tc := range []struct{ env, value string }{
		{"INTAKE_PORT", "abc"},
		{"CONSOLE_PORT", "http"},
		{"REFERENTIAL_PORT", "0"},
		{"WORKER_PORT", "70000"},
		{"TEMPORAL_UI_PORT", "-1"},
		{"ROME_DEV_MODE", "yes please"},
		{"TEMPORAL_ADDRESS", "7233"},
		{"TEMPORAL_ADDRESS", ":7233"},
		{"TEMPORAL_ADDRESS", "127.0.0.1:http"},
	} {
		setEnv(t, map[string]string{tc.env: tc.value})
		_, err := OptionsFromEnv()
		if err == nil {
			t.Errorf("%s=%q: no error", tc.env, tc.value)
		} else if !strings.Contains(err.Error(), tc.env) {
			t.Errorf("%s=%q: error %q does not name the variable", tc.env, tc.value, err)
		}
	}
}

func TestFindRepoRoot(t *testing.T) {
	dir := t.TempDir()
	nested := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRepoRoot(nested); err == nil {
		t.Fatal("found a repo root without go.work")
	}
	if err := os.WriteFile(filepath.Join(dir, "go.work"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindRepoRoot(nested); err != nil || got != dir {
		t.Fatalf("FindRepoRoot = %q, %v; want %q", got, err, dir)
	}
}

func TestDefaultDataDir(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "main")
	if got := DefaultDataDir(root); got != "" {
		t.Errorf("DefaultDataDir without ../shared = %q, want empty", got)
	}
	data := filepath.Join(parent, "shared", "data", "rome4")
	if err := os.MkdirAll(data, 0o555); err != nil {
		t.Fatal(err)
	}
	if got := DefaultDataDir(root); got != data {
		t.Errorf("DefaultDataDir = %q, want %q", got, data)
	}
}

func TestCheckPortsFree(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	o := Options{RepoRoot: t.TempDir(), TemporalAddress: "127.0.0.1:" + strconv.Itoa(port)}
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	for _, pv := range portVars {
		if *pv.port(&o.Ports), err = FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	s := &Stack{Options: o}
	if err := s.checkPortsFree(); err != nil {
		t.Fatalf("free ports reported busy: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := s.Options.Ports
	busy.Notifications = l.Addr().(*net.TCPAddr).Port
	s.Options.Ports = busy
	err = s.checkPortsFree()
	if err == nil || !strings.Contains(err.Error(), "NOTIFICATIONS_PORT") {
		t.Fatalf("busy notifications port: err = %v, want one naming NOTIFICATIONS_PORT", err)
	}
	s.Options.Ports = o.Ports
	s.Options.Ports.Console = l.Addr().(*net.TCPAddr).Port
	err = s.checkPortsFree()
	if err == nil || !strings.Contains(err.Error(), "CONSOLE_PORT") {
		t.Fatalf("busy console port: err = %v, want one naming CONSOLE_PORT", err)
	}
}

// Every member and Temporal (the dev server, or the cluster's proxy and nodes) get a port of
// their own.
func TestUseFreePortsGivesDistinctPorts(t *testing.T) {
	var o Options
	if err := o.UseFreePorts(); err != nil {
		t.Fatal(err)
	}
	_, temporal, err := splitHostPort(o.TemporalAddress)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{temporal: "Temporal"}
	for _, pv := range portVars {
		p := *pv.port(&o.Ports)
		if other, taken := seen[p]; taken || p == 0 {
			t.Fatalf("%s got port %d, already %s's", pv.env, p, other)
		}
		seen[p] = pv.env
	}
	if len(o.TemporalNodes) != temporalClusterNodes {
		t.Fatalf("%d cluster nodes, want %d", len(o.TemporalNodes), temporalClusterNodes)
	}
	for i, node := range o.TemporalNodes {
		for j, p := range node {
			for _, port := range []int{p.GRPC, p.Membership} {
				if other, taken := seen[port]; taken || port == 0 {
					t.Fatalf("node %d's %s got port %d, already %s's", i, temporalServices[j], port, other)
				}
				seen[port] = temporalNodeName(i)
			}
			if p.Membership > maxTemporalMembershipPort {
				t.Errorf("node %d's %s membership port %d: the server cannot store it", i, temporalServices[j], p.Membership)
			}
		}
	}
}

func TestOptionsFromEnvReadsTheTemporalCluster(t *testing.T) {
	setEnv(t, map[string]string{
		"ROME_TEMPORAL":                         "cluster",
		"ROME_TEMPORAL_DATABASE_URL":            "postgres://postgres@127.0.0.1:5432/t?sslmode=disable",
		"ROME_TEMPORAL_VISIBILITY_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/tv?sslmode=disable",
	})
	o, err := OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if o.Temporal != TemporalCluster || !strings.HasSuffix(o.TemporalDatabaseURL, "/t?sslmode=disable") ||
		!strings.HasSuffix(o.TemporalVisibilityDatabaseURL, "/tv?sslmode=disable") {
		t.Errorf("Temporal %q on %q and %q", o.Temporal, o.TemporalDatabaseURL, o.TemporalVisibilityDatabaseURL)
	}
	setEnv(t, map[string]string{"ROME_TEMPORAL": "kubernetes"})
	if _, err := OptionsFromEnv(); err == nil || !strings.Contains(err.Error(), "ROME_TEMPORAL") {
		t.Errorf("ROME_TEMPORAL=kubernetes: err = %v, want one naming the variable", err)
	}
}
