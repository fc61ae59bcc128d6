package devstack

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// clusterOptions are resolved options in cluster mode, with two nodes on made-up ports.
func clusterOptions(t *testing.T) Options {
	t.Helper()
	o := Options{
		RepoRoot:                      t.TempDir(),
		StateDir:                      "/state",
		Temporal:                      TemporalCluster,
		TemporalAddress:               "127.0.0.1:17233",
		TemporalDatabaseURL:           "postgres://temporal:s3cret@db.local:6543/rome_t_1?sslmode=disable",
		TemporalVisibilityDatabaseURL: "postgres://temporal:s3cret@db.local:6543/rome_t_2",
		Ports:                         Ports{Intake: 1001, TemporalUI: 1005},
		TemporalNamespace:             "rome",
	}
	for node := range 2 {
		ports := make([]int, temporalNodePortCount)
		for i := range ports {
			ports[i] = 20000 + 100*node + i
		}
		o.TemporalNodes = append(o.TemporalNodes, nodePortsFrom(ports))
	}
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	return o
}

// serverConfig is what the cluster's nodes read of their configuration (the server's
// common/config.Config, in part).
type serverConfig struct {
	Persistence struct {
		DefaultStore     string `yaml:"defaultStore"`
		VisibilityStore  string `yaml:"visibilityStore"`
		NumHistoryShards int    `yaml:"numHistoryShards"`
		DataStores       map[string]struct {
			SQL struct {
				PluginName   string `yaml:"pluginName"`
				DatabaseName string `yaml:"databaseName"`
				ConnectAddr  string `yaml:"connectAddr"`
				User         string `yaml:"user"`
				Password     string `yaml:"password"`
				MaxConns     int    `yaml:"maxConns"`
			} `yaml:"sql"`
		} `yaml:"datastores"`
	} `yaml:"persistence"`
	Global struct {
		Membership struct {
			BroadcastAddress string `yaml:"broadcastAddress"`
		} `yaml:"membership"`
	} `yaml:"global"`
	Services map[string]struct {
		RPC struct {
			GRPCPort       int    `yaml:"grpcPort"`
			MembershipPort int    `yaml:"membershipPort"`
			BindOnIP       string `yaml:"bindOnIP"`
		} `yaml:"rpc"`
	} `yaml:"services"`
	ClusterMetadata struct {
		CurrentClusterName string `yaml:"currentClusterName"`
		ClusterInformation map[string]struct {
			Enabled    bool   `yaml:"enabled"`
			RPCAddress string `yaml:"rpcAddress"`
		} `yaml:"clusterInformation"`
	} `yaml:"clusterMetadata"`
	DynamicConfigClient struct {
		Filepath string `yaml:"filepath"`
	} `yaml:"dynamicConfigClient"`
}

func TestTemporalNodeConfig(t *testing.T) {
	t.Parallel()
	o := clusterOptions(t)
	for node := range o.TemporalNodes {
		b, err := o.temporalNodeConfig(node)
		if err != nil {
			t.Fatal(err)
		}
		var cfg serverConfig
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		p := cfg.Persistence
		if p.NumHistoryShards != temporalNumHistoryShards {
			t.Errorf("node %d: numHistoryShards = %d, want %d on every node", node, p.NumHistoryShards, temporalNumHistoryShards)
		}
		for store, want := range map[string]string{p.DefaultStore: "rome_t_1", p.VisibilityStore: "rome_t_2"} {
			sql := p.DataStores[store].SQL
			if sql.PluginName != "postgres12" || sql.DatabaseName != want || sql.ConnectAddr != "db.local:6543" ||
				sql.User != "temporal" || sql.Password != "s3cret" || sql.MaxConns == 0 {
				t.Errorf("node %d: store %q = %+v, want postgres12 database %s at db.local:6543 as temporal", node, store, sql, want)
			}
		}
		if len(cfg.Services) != len(temporalServices) {
			t.Errorf("node %d runs %d services, want %v", node, len(cfg.Services), temporalServices)
		}
		for i, name := range temporalServices {
			rpc := cfg.Services[name].RPC
			want := o.TemporalNodes[node][i]
			if rpc.GRPCPort != want.GRPC || rpc.MembershipPort != want.Membership || rpc.BindOnIP != "127.0.0.1" {
				t.Errorf("node %d: %s rpc = %+v, want gRPC %d and membership %d on 127.0.0.1", node, name, rpc, want.GRPC, want.Membership)
			}
		}
		if cfg.Global.Membership.BroadcastAddress != "127.0.0.1" {
			t.Errorf("node %d broadcasts %q to its peers, want 127.0.0.1", node, cfg.Global.Membership.BroadcastAddress)
		}
		current := cfg.ClusterMetadata.ClusterInformation[cfg.ClusterMetadata.CurrentClusterName]
		if !current.Enabled || current.RPCAddress != o.TemporalAddress {
			t.Errorf("node %d: current cluster %+v, want enabled at the proxy %s", node, current, o.TemporalAddress)
		}
		if cfg.DynamicConfigClient.Filepath != filepath.Join("/state", "temporal-cluster", "dynamicconfig.yaml") {
			t.Errorf("node %d reads dynamic config from %q", node, cfg.DynamicConfigClient.Filepath)
		}
	}
}

// The cluster runs with the dev server's tuning, typed as the server expects it.
func TestTemporalDynamicConfigYAML(t *testing.T) {
	t.Parallel()
	b, err := temporalDynamicConfigYAML()
	if err != nil {
		t.Fatal(err)
	}
	var file map[string][]struct {
		Value any `yaml:"value"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{
		"history.transferProcessorMaxPollRPS":  1000,
		"matching.numTaskqueueReadPartitions":  1,
		"matching.numTaskqueueWritePartitions": 1,
	} {
		if v := file[key]; len(v) != 1 || v[0].Value != want {
			t.Errorf("%s = %+v, want one value %d", key, v, want)
		}
	}
	if len(file) != len(temporalDynamicConfig) {
		t.Errorf("%d keys, want the %d of temporalDynamicConfig", len(file), len(temporalDynamicConfig))
	}
}

func TestTemporalUIConfig(t *testing.T) {
	t.Parallel()
	o := clusterOptions(t)
	b, err := o.temporalUIConfig()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		TemporalGRPCAddress string `yaml:"temporalGrpcAddress"`
		Host                string `yaml:"host"`
		Port                int    `yaml:"port"`
		EnableUI            bool   `yaml:"enableUi"`
		DefaultNamespace    string `yaml:"defaultNamespace"`
		Codec               struct {
			Endpoint string `yaml:"endpoint"`
		} `yaml:"codec"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.TemporalGRPCAddress != o.TemporalAddress || cfg.Host != "127.0.0.1" || cfg.Port != 1005 || !cfg.EnableUI || cfg.DefaultNamespace != "rome" {
		t.Errorf("UI config %+v, want the UI on 127.0.0.1:1005 reaching the proxy %s, namespace rome", cfg, o.TemporalAddress)
	}
	if cfg.Codec.Endpoint != "http://127.0.0.1:1001/codec" {
		t.Errorf("codec endpoint = %q, want the intake's /codec", cfg.Codec.Endpoint)
	}
}

func TestResolveTemporalDefaults(t *testing.T) {
	t.Parallel()
	o := Options{RepoRoot: t.TempDir()}
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	if o.Temporal != TemporalDev {
		t.Errorf("Temporal = %q, want %q by default", o.Temporal, TemporalDev)
	}
	if o.TemporalDatabaseURL != "" {
		t.Errorf("the dev server got Temporal databases: %q", o.TemporalDatabaseURL)
	}
	if len(o.TemporalNodes) != 2 || o.TemporalNodes[0].Frontend() != "127.0.0.1:7234" || o.TemporalNodes[1].Frontend() != "127.0.0.1:7242" {
		t.Errorf("default nodes %+v, want two, their frontends on 7234 and 7242", o.TemporalNodes)
	}
	seen := map[string]string{}
	for name, addr := range o.temporalClusterAddrs() {
		if other, taken := seen[addr]; taken {
			t.Errorf("%s and %s both listen on %s", name, other, addr)
		}
		seen[addr] = name
	}
	if len(seen) != 2*temporalNodePortCount {
		t.Errorf("%d addresses, want %d", len(seen), 2*temporalNodePortCount)
	}
}

// Stacks on one PostgreSQL never share Temporal's databases: they are named after the stack's.
func TestResolveTemporalNamesTheDatabasesAfterTheStacks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ databaseURL, store, visibility string }{
		{"postgres://postgres@127.0.0.1:5432/rome_t_abc?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/rome_t_abc_temporal?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/rome_t_abc_temporal_visibility?sslmode=disable"},
		{"", // the services on SQLite
			"postgres://postgres@127.0.0.1:5432/rome_temporal?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/rome_temporal_visibility?sslmode=disable"},
	} {
		o := Options{RepoRoot: t.TempDir(), Temporal: TemporalCluster, DatabaseURL: tc.databaseURL}
		if err := o.resolve(); err != nil {
			t.Fatal(err)
		}
		if o.TemporalDatabaseURL != tc.store || o.TemporalVisibilityDatabaseURL != tc.visibility {
			t.Errorf("DatabaseURL %q: Temporal's databases %q and %q, want %q and %q", tc.databaseURL,
				o.TemporalDatabaseURL, o.TemporalVisibilityDatabaseURL, tc.store, tc.visibility)
		}
	}
}

func TestResolveTemporalRejectsBadSettings(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{
		{Temporal: "k8s"},
		{Temporal: TemporalCluster, DatabaseURL: "host=127.0.0.1 dbname=rome"},
		{Temporal: TemporalCluster, TemporalDatabaseURL: "mysql://root@127.0.0.1/temporal", TemporalVisibilityDatabaseURL: "postgres://127.0.0.1/v"},
		{Temporal: TemporalCluster, TemporalDatabaseURL: "postgres://127.0.0.1/temporal?sslmode=require", TemporalVisibilityDatabaseURL: "postgres://127.0.0.1/v"},
		{Temporal: TemporalCluster, TemporalDatabaseURL: "postgres://127.0.0.1/temporal", TemporalVisibilityDatabaseURL: "postgres://127.0.0.1/rome-visibility"},
		{Temporal: TemporalCluster, TemporalDatabaseURL: "postgres:///temporal", TemporalVisibilityDatabaseURL: "postgres://127.0.0.1/v"},
		{Temporal: TemporalCluster, TemporalNodes: []TemporalNodePorts{nodePortsFrom([]int{7234, 40000, 7236, 7237, 7238, 7239, 7240, 7241})}},
	} {
		o.RepoRoot = t.TempDir()
		if err := o.resolve(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestTemporalModeFromEnv(t *testing.T) {
	for value, want := range map[string]TemporalMode{"": TemporalDev, "dev": TemporalDev, "cluster": TemporalCluster} {
		t.Setenv("ROME_TEMPORAL", value)
		if got, err := TemporalModeFromEnv(); err != nil || got != want {
			t.Errorf("ROME_TEMPORAL=%q: %q, %v; want %q", value, got, err, want)
		}
	}
	t.Setenv("ROME_TEMPORAL", "prod")
	if _, err := TemporalModeFromEnv(); err == nil || !strings.Contains(err.Error(), "ROME_TEMPORAL") {
		t.Errorf("ROME_TEMPORAL=prod: err = %v, want one naming the variable", err)
	}
}

// fakeGo puts a go command on PATH that records its arguments and GOBIN and GOWORK, and
// returns the file it records them in.
func fakeGo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	record := filepath.Join(dir, "record")
	script := "#!/bin/sh\necho \"$* GOBIN=$GOBIN GOWORK=$GOWORK\" >> " + record + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return record
}

func TestGoInstallBuildsEveryCommandOutsideTheWorkspace(t *testing.T) {
	record := fakeGo(t)
	binDir := filepath.Join(t.TempDir(), "temporal-server")
	err := goInstall(t.Context(), binDir, TemporalServerModule, TemporalServerVersion, t.Logf,
		TemporalServerModule+"/cmd/server", TemporalServerModule+"/cmd/tools/sql")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(record)
	want := "install go.temporal.io/server/cmd/server@v1.29.1 go.temporal.io/server/cmd/tools/sql@v1.29.1 GOBIN=" + binDir + " GOWORK=off\n"
	if string(got) != want {
		t.Errorf("ran go %q, want %q", got, want)
	}
}

// A binary built from the module and version asked for is not built again: this test's own
// binary names its module, at version (devel).
func TestGoInstallKeepsBinariesBuiltFromTheVersion(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(binDir, "devstack"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	record := fakeGo(t)
	const module = "github.com/plateforme-rome/rome/tools/devstack"
	if err := goInstall(t.Context(), binDir, module, "(devel)", t.Logf, module+"/cmd/devstack"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(record); err == nil {
		t.Error("go install ran though the binary was built from the version asked for")
	}
	if err := goInstall(t.Context(), binDir, module, "v1.0.0", t.Logf, module+"/cmd/devstack"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(record); err != nil {
		t.Error("go install did not run for another version")
	}
}

// Temporal's ports are checked free before anything starts, the cluster's in cluster mode only.
func TestTemporalAddrs(t *testing.T) {
	t.Parallel()
	o := clusterOptions(t)
	addrs := o.temporalAddrs()
	for _, want := range []string{"127.0.0.1:17233", "127.0.0.1:1005", "127.0.0.1:20000", "127.0.0.1:20107"} {
		if !slices.Contains(slices.Collect(maps.Values(addrs)), want) {
			t.Errorf("cluster mode does not check %s: %v", want, addrs)
		}
	}
	o.Temporal = TemporalDev
	if got := len(o.temporalAddrs()); got != 2 {
		t.Errorf("dev mode checks %d addresses, want 2 (gRPC and UI): %v", got, o.temporalAddrs())
	}
}
