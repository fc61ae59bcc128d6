package devstack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
	"gopkg.in/yaml.v3"

	"github.com/plateforme-rome/rome/platform/config"
)

// Cluster mode runs the Temporal server built from its module, at the version the compose
// file and the Kubernetes manifests run (TestTemporalVersionIsTheSameEverywhere) and the
// Temporal CLI's dev server embeds (TemporalCLIVersion's go.mod): both modes run the same
// server code. The UI is the server the CLI embeds too.
const (
	TemporalServerModule  = "go.temporal.io/server"
	TemporalServerVersion = "v1.29.1"
	TemporalUIModule      = "github.com/temporalio/ui-server/v2"
	TemporalUIVersion     = "v2.42.1"
)

// The images of those versions: temporalio/server and temporalio/admin-tools are tagged
// after TemporalServerVersion, temporalio/ui after TemporalUIVersion, without the v.
var (
	TemporalImageTag   = strings.TrimPrefix(TemporalServerVersion, "v")
	TemporalUIImageTag = strings.TrimPrefix(TemporalUIVersion, "v")
)

// TemporalMode says what serves Temporal to the stack.
type TemporalMode string

const (
	// TemporalDev is the Temporal CLI's dev server: one process, SQLite in the state dir.
	TemporalDev TemporalMode = "dev"
	// TemporalCluster is two Temporal server processes forming one cluster on PostgreSQL,
	// behind a round-robin proxy at TemporalAddress, and the Temporal UI server.
	TemporalCluster TemporalMode = "cluster"
)

// TemporalModeFromEnv reads ROME_TEMPORAL ("dev", the default, or "cluster").
func TemporalModeFromEnv() (TemporalMode, error) {
	switch m := TemporalMode(config.String("ROME_TEMPORAL", string(TemporalDev))); m {
	case TemporalDev, TemporalCluster:
		return m, nil
	default:
		return "", fmt.Errorf("ROME_TEMPORAL=%q: want %q or %q", m, TemporalDev, TemporalCluster)
	}
}

// temporalServices are the services every node of the cluster runs, in the order of
// TemporalNodePorts.
var temporalServices = []string{"frontend", "history", "matching", "worker"}

// TemporalNodePorts are the loopback ports of one node of the cluster: per service of
// temporalServices, its gRPC port and its membership (ringpop) port.
type TemporalNodePorts [4]struct{ GRPC, Membership int }

// Frontend is the host:port of the node's frontend, which clients and the proxy dial.
func (n TemporalNodePorts) Frontend() string { return "127.0.0.1:" + strconv.Itoa(n[0].GRPC) }

// temporalNodePortCount is how many ports a node listens on.
const temporalNodePortCount = len(TemporalNodePorts{}) * 2

// maxTemporalMembershipPort is the highest membership port a node can have: the server keeps
// it in a SMALLINT column of its PostgreSQL schema (cluster_membership.rpc_port), and a node
// on a higher one cannot join.
const maxTemporalMembershipPort = 32767

// freePortsBelow is FreePorts for ports from 10000 up to limit (excluded), below the
// kernel's ephemeral range, picked at random so that stacks started side by side seldom try
// the same ones.
func freePortsBelow(n, limit int) ([]int, error) {
	const first = 10000
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 100*n {
			return nil, fmt.Errorf("no %d free ports between %d and %d", n, first, limit)
		}
		port := first + rand.IntN(limit-first)
		if slices.Contains(ports, port) {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		defer l.Close()
		ports = append(ports, port)
	}
	return ports, nil
}

// nodePortsFrom takes a node's ports from ports, in TemporalNodePorts order.
func nodePortsFrom(ports []int) TemporalNodePorts {
	var n TemporalNodePorts
	for i := range n {
		n[i].GRPC, n[i].Membership = ports[2*i], ports[2*i+1]
	}
	return n
}

// Cluster mode's defaults: two nodes on the ports after Temporal's 7233 (the proxy's), the
// namespace's retention, and the server whose databases are named after the stack's.
const (
	temporalClusterNodes        = 2
	temporalClusterFirstPort    = 7234
	temporalNamespaceRetention  = 3 * 24 * time.Hour
	temporalClusterDefaultDBURL = "postgres://postgres@127.0.0.1:5432/rome?sslmode=disable"
	temporalNumHistoryShards    = 4 // fixed when the databases are created: changing it needs new ones
)

// resolveTemporal fills the cluster's defaults and validates them.
func (o *Options) resolveTemporal() error {
	switch o.Temporal {
	case "":
		o.Temporal = TemporalDev
	case TemporalDev, TemporalCluster:
	default:
		return fmt.Errorf("Temporal mode %q: want %q or %q", o.Temporal, TemporalDev, TemporalCluster)
	}
	if len(o.TemporalNodes) == 0 {
		for i := range temporalClusterNodes {
			ports := make([]int, temporalNodePortCount)
			for j := range ports {
				ports[j] = temporalClusterFirstPort + i*temporalNodePortCount + j
			}
			o.TemporalNodes = append(o.TemporalNodes, nodePortsFrom(ports))
		}
	}
	if o.Temporal != TemporalCluster {
		return nil
	}
	for i, node := range o.TemporalNodes {
		for j, p := range node {
			if p.Membership > maxTemporalMembershipPort {
				return fmt.Errorf("%s's %s membership port %d: the server cannot store a port above %d", temporalNodeName(i), temporalServices[j], p.Membership, maxTemporalMembershipPort)
			}
		}
	}
	if o.TemporalDatabaseURL == "" || o.TemporalVisibilityDatabaseURL == "" {
		store, visibility, err := defaultTemporalDatabases(o.DatabaseURL)
		if err != nil {
			return err
		}
		o.TemporalDatabaseURL = cmp.Or(o.TemporalDatabaseURL, store)
		o.TemporalVisibilityDatabaseURL = cmp.Or(o.TemporalVisibilityDatabaseURL, visibility)
	}
	for env, u := range map[string]string{"ROME_TEMPORAL_DATABASE_URL": o.TemporalDatabaseURL, "ROME_TEMPORAL_VISIBILITY_DATABASE_URL": o.TemporalVisibilityDatabaseURL} {
		if _, err := parseTemporalDB(u); err != nil {
			return fmt.Errorf("%s: %w", env, err)
		}
	}
	return nil
}

// defaultTemporalDatabases names Temporal's databases after the stack's: <database>_temporal
// and <database>_temporal_visibility on the same server (so that stacks on one PostgreSQL,
// such as the end-to-end tests', never share them), or rome_temporal… on 127.0.0.1:5432 when
// the services use SQLite.
func defaultTemporalDatabases(databaseURL string) (string, string, error) {
	u, err := url.Parse(cmp.Or(databaseURL, temporalClusterDefaultDBURL))
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", errors.New("Temporal's cluster mode names its databases after DATABASE_URL, which is no postgres:// URL: set ROME_TEMPORAL_DATABASE_URL and ROME_TEMPORAL_VISIBILITY_DATABASE_URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/" + name + "_temporal"
	store := u.String()
	u.Path = "/" + name + "_temporal_visibility"
	return store, u.String(), nil
}

// temporalDB is where one of Temporal's stores lives.
type temporalDB struct {
	host, user, password, name string
	port                       int
}

// sqlIdentifier is what the schema tool accepts as a database name: it writes it unquoted.
var sqlIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// parseTemporalDB reads a postgres:// URL. The nodes connect without TLS, over loopback.
func parseTemporalDB(raw string) (temporalDB, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return temporalDB{}, fmt.Errorf("%q: want a postgres:// URL", redactDSN(raw))
	}
	db := temporalDB{host: u.Hostname(), user: cmp.Or(u.User.Username(), "postgres"), name: strings.TrimPrefix(u.Path, "/"), port: 5432}
	db.password, _ = u.User.Password()
	if p := u.Port(); p != "" {
		if db.port, err = parsePort(p); err != nil {
			return temporalDB{}, err
		}
	}
	if db.host == "" {
		return temporalDB{}, fmt.Errorf("%s: no host", u.Redacted())
	}
	if !sqlIdentifier.MatchString(db.name) {
		return temporalDB{}, fmt.Errorf("%s: database name %q: want lower-case letters, digits and _", u.Redacted(), db.name)
	}
	for key, values := range u.Query() {
		if key != "sslmode" || !slices.Equal(values, []string{"disable"}) {
			return temporalDB{}, fmt.Errorf("%s: %s=%s is not supported (the cluster connects without TLS)", u.Redacted(), key, strings.Join(values, ","))
		}
	}
	return db, nil
}

func (d temporalDB) addr() string { return net.JoinHostPort(d.host, strconv.Itoa(d.port)) }

// temporalClusterDir holds the nodes' and the UI's generated configuration.
func (o Options) temporalClusterDir() string { return filepath.Join(o.StateDir, "temporal-cluster") }

// temporalNodeName names node i (from 0) in logs, Kill and Restart.
func temporalNodeName(i int) string { return "temporal-" + strconv.Itoa(i+1) }

// yamlMap keeps the generated configurations readable next to the server's own examples.
type yamlMap = map[string]any

// temporalNodeConfig is node i's server configuration, in the shape of the server's
// config/development-postgres12.yaml: both stores on PostgreSQL, the four services on the
// node's loopback ports, membership found through the shared database.
func (o Options) temporalNodeConfig(i int) ([]byte, error) {
	sqlStore := func(raw string, maxConns int) (yamlMap, error) {
		db, err := parseTemporalDB(raw)
		if err != nil {
			return nil, err
		}
		return yamlMap{"sql": yamlMap{
			"pluginName": "postgres12", "databaseName": db.name, "connectAddr": db.addr(), "connectProtocol": "tcp",
			"user": db.user, "password": db.password,
			// Eight services (two nodes of four) share a PostgreSQL whose default limit is
			// 100 connections, with the platform's own services and other stacks' tests.
			"maxConns": maxConns, "maxIdleConns": maxConns / 2, "maxConnLifetime": "1h",
		}}, nil
	}
	store, err := sqlStore(o.TemporalDatabaseURL, 6)
	if err != nil {
		return nil, err
	}
	visibility, err := sqlStore(o.TemporalVisibilityDatabaseURL, 2)
	if err != nil {
		return nil, err
	}
	services := yamlMap{}
	for j, name := range temporalServices {
		p := o.TemporalNodes[i][j]
		services[name] = yamlMap{"rpc": yamlMap{"grpcPort": p.GRPC, "membershipPort": p.Membership, "bindOnIP": "127.0.0.1"}}
	}
	disabled := yamlMap{"state": "disabled"}
	return yaml.Marshal(yamlMap{
		"log": yamlMap{"stdout": true, "level": "warn"},
		"persistence": yamlMap{
			"defaultStore": "default", "visibilityStore": "visibility", "numHistoryShards": temporalNumHistoryShards,
			"datastores": yamlMap{"default": store, "visibility": visibility},
		},
		"global":   yamlMap{"membership": yamlMap{"maxJoinDuration": "30s", "broadcastAddress": "127.0.0.1"}},
		"services": services,
		"clusterMetadata": yamlMap{
			"enableGlobalNamespace": false, "failoverVersionIncrement": 10,
			"masterClusterName": "active", "currentClusterName": "active",
			"clusterInformation": yamlMap{"active": yamlMap{
				"enabled": true, "initialFailoverVersion": 1, "rpcName": "frontend", "rpcAddress": o.TemporalAddress,
			}},
		},
		"dcRedirectionPolicy": yamlMap{"policy": "noop"},
		"archival":            yamlMap{"history": disabled, "visibility": disabled},
		"namespaceDefaults":   yamlMap{"archival": yamlMap{"history": disabled, "visibility": disabled}},
		"dynamicConfigClient": yamlMap{"filepath": o.temporalDynamicConfigFile(), "pollInterval": "10s"},
	})
}

func (o Options) temporalDynamicConfigFile() string {
	return filepath.Join(o.temporalClusterDir(), "dynamicconfig.yaml")
}

// temporalDynamicConfigYAML is temporalDynamicConfig, which tunes the dev server, in the
// server's dynamic config file format: the cluster runs on the same laptop.
func temporalDynamicConfigYAML() ([]byte, error) {
	file := yamlMap{}
	for _, kv := range temporalDynamicConfig {
		key, raw, _ := strings.Cut(kv, "=")
		var value any
		if err := yaml.Unmarshal([]byte(raw), &value); err != nil {
			return nil, fmt.Errorf("dynamic config %s: %w", kv, err)
		}
		file[key] = []yamlMap{{"value": value}}
	}
	return yaml.Marshal(file)
}

// temporalUIConfig is the UI server's configuration: the cluster through the proxy, and the
// intake's codec routes to decrypt histories, as the dev server's UI has them.
func (o Options) temporalUIConfig() ([]byte, error) {
	return yaml.Marshal(yamlMap{
		"temporalGrpcAddress": o.TemporalAddress,
		"host":                "127.0.0.1",
		"port":                o.Ports.TemporalUI,
		"enableUi":            true,
		"defaultNamespace":    o.TemporalNamespace,
		"codec":               yamlMap{"endpoint": localURL(o.Ports.Intake) + "/codec"},
		"cors":                yamlMap{"cookieInsecure": true},
		"hideLogs":            true,
	})
}

// temporalClusterAddrs are the addresses the cluster's nodes listen on, named for errors.
func (o Options) temporalClusterAddrs() map[string]string {
	addrs := map[string]string{}
	for i, node := range o.TemporalNodes {
		for j, p := range node {
			name := temporalNodeName(i) + " " + temporalServices[j]
			addrs[name+" gRPC"] = "127.0.0.1:" + strconv.Itoa(p.GRPC)
			addrs[name+" membership"] = "127.0.0.1:" + strconv.Itoa(p.Membership)
		}
	}
	return addrs
}

// The server and its SQL schema tool, and the UI server, each built into a directory of its
// own under ToolsDir: go install names binaries after their package (server, sql, server).
func (o Options) temporalServerDir() string { return filepath.Join(o.ToolsDir, "temporal-server") }
func (o Options) temporalUIDir() string     { return filepath.Join(o.ToolsDir, "temporal-ui") }

// launchTemporalCluster builds what is missing, creates and migrates the databases, writes the
// configurations, and starts the proxy in front of the nodes' frontends, the first node and
// the UI.
func (s *Stack) launchTemporalCluster(ctx context.Context) error {
	o := s.Options
	serverDir, uiDir := o.temporalServerDir(), o.temporalUIDir()
	if err := goInstall(ctx, serverDir, TemporalServerModule, TemporalServerVersion, s.logf,
		TemporalServerModule+"/cmd/server", TemporalServerModule+"/cmd/tools/sql"); err != nil {
		return err
	}
	if err := goInstall(ctx, uiDir, TemporalUIModule, TemporalUIVersion, s.logf, TemporalUIModule+"/cmd/server"); err != nil {
		return err
	}
	if err := s.migrateTemporalSchema(ctx, filepath.Join(serverDir, "sql")); err != nil {
		return err
	}

	files := map[string]func() ([]byte, error){
		o.temporalDynamicConfigFile():                                   temporalDynamicConfigYAML,
		filepath.Join(o.temporalClusterDir(), "ui", "temporal-ui.yaml"): o.temporalUIConfig,
	}
	for i := range o.TemporalNodes {
		files[filepath.Join(o.temporalClusterDir(), temporalNodeName(i), "temporal.yaml")] = func() ([]byte, error) { return o.temporalNodeConfig(i) }
	}
	for path, render := range files {
		if err := writeGenerated(path, render); err != nil {
			return err
		}
	}

	frontends := make([]string, len(o.TemporalNodes))
	for i, node := range o.TemporalNodes {
		frontends[i] = node.Frontend()
	}
	proxy, err := StartTCPProxy(o.TemporalAddress, frontends)
	if err != nil {
		return fmt.Errorf("Temporal's proxy: %w", err)
	}
	s.temporalProxy = proxy
	s.logf("starting a Temporal cluster of %d nodes (server %s, frontends %s) on PostgreSQL, behind %s (UI %s)",
		len(o.TemporalNodes), TemporalServerVersion, strings.Join(frontends, ", "), o.TemporalAddress, s.Endpoints.TemporalUI)
	for i := range o.TemporalNodes {
		args := []string{"--root", o.temporalClusterDir(), "--config", temporalNodeName(i), "--env", "temporal", "--allow-no-auth", "start"}
		s.temporal = append(s.temporal, s.newChild(temporalNodeName(i), filepath.Join(serverDir, "server"), os.Environ(), args, s.waitTemporalNode(i)))
	}
	ui := s.newChild("temporal-ui", filepath.Join(uiDir, "server"), os.Environ(),
		[]string{"--root", o.temporalClusterDir(), "--config", "ui", "--env", "temporal-ui", "start"},
		func(ctx context.Context, p *process) error { return waitHTTP(ctx, s.Endpoints.TemporalUI, 0, p) })
	s.temporal = append(s.temporal, ui)
	// The first node alone: on new databases it writes the cluster's metadata, which a
	// second node writing it at the same time would fail on (and exit).
	if err := s.launchChild(s.temporal[0]); err != nil {
		return err
	}
	return s.launchChild(ui)
}

// writeGenerated writes what render returns to path, creating its directory.
func writeGenerated(path string, render func() ([]byte, error)) error {
	b, err := render()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte("# Generated by devstack at each start: edits are lost.\n"), b...), 0o600)
}

// awaitTemporalCluster waits until the first node is up, starts the others and waits until
// they have joined it, registers the namespace and the search attributes and waits until
// every frontend sees them, then waits for the UI.
func (s *Stack) awaitTemporalCluster(ctx context.Context) error {
	nodes, ui := s.temporal[:len(s.temporal)-1], s.temporal[len(s.temporal)-1]
	if err := s.awaitChild(ctx, nodes[0]); err != nil {
		return err
	}
	for _, node := range nodes[1:] {
		if err := s.launchChild(node); err != nil {
			return err
		}
	}
	for _, node := range nodes[1:] {
		if err := s.awaitChild(ctx, node); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.Options.ReadyTimeout)
	defer cancel()
	if err := s.registerNamespace(ctx, nodes); err != nil {
		return err
	}
	return s.awaitChild(ctx, ui)
}

// migrateTemporalSchema creates Temporal's two databases if they do not exist and brings their
// schemas to the server's version, with the server's SQL tool and the schemas it embeds.
// Every step is a no-op when already done.
func (s *Stack) migrateTemporalSchema(ctx context.Context, sqlTool string) error {
	o := s.Options
	for _, store := range []struct{ url, schema string }{
		{o.TemporalDatabaseURL, "postgresql/v12/temporal"},
		{o.TemporalVisibilityDatabaseURL, "postgresql/v12/visibility"},
	} {
		db, err := parseTemporalDB(store.url)
		if err != nil {
			return err
		}
		s.logf("Temporal schema %s in database %s", store.schema, db.name)
		global := []string{"--plugin", "postgres12", "--endpoint", db.host, "--port", strconv.Itoa(db.port), "--user", db.user, "--database", db.name}
		for _, step := range [][]string{
			{"create-database", "--defaultdb", "postgres"},
			{"setup-schema", "-v", "0.0"},
			{"update-schema", "--schema-name", store.schema},
		} {
			cmd := exec.CommandContext(ctx, sqlTool, append(global, step...)...)
			// The password through the environment, out of the process list.
			cmd.Env = append(os.Environ(), "SQL_PASSWORD="+db.password)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("Temporal's SQL tool %s on %s: %w\n%s", step[0], db.name, err, out)
			}
		}
	}
	return nil
}

// waitTemporalNode waits until node i's frontend answers its health check and its four
// services have joined the cluster's membership since this process started: they write
// themselves in the shared cluster_membership table, where every node finds the others.
func (s *Stack) waitTemporalNode(i int) func(context.Context, *process) error {
	return func(ctx context.Context, p *process) error {
		c, err := dialTemporal(ctx, s.Options, p, s.Options.TemporalNodes[i].Frontend())
		if err != nil {
			return err
		}
		c.Close()
		return waitFor(ctx, p, "its cluster membership", func(ctx context.Context) error {
			return s.Options.checkNodeJoined(ctx, i, p.started)
		})
	}
}

// checkNodeJoined reports the services of node i that have not joined the cluster's
// membership since since.
func (o Options) checkNodeJoined(ctx context.Context, i int, since time.Time) error {
	conn, err := pgx.Connect(ctx, o.TemporalDatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT rpc_port, session_start FROM cluster_membership WHERE rpc_address = '127.0.0.1'")
	if err != nil {
		return err
	}
	joined := map[int]bool{}
	for rows.Next() {
		var port int
		var sessionStart time.Time
		if err := rows.Scan(&port, &sessionStart); err != nil {
			return err
		}
		// A second of slack: the server truncates nothing, but the clocks are read apart.
		if !sessionStart.Before(since.UTC().Add(-time.Second)) {
			joined[port] = true
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var missing []string
	for j, p := range o.TemporalNodes[i] {
		if !joined[p.Membership] {
			missing = append(missing, temporalServices[j])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s has not joined the cluster yet", strings.Join(missing, ", "))
	}
	return nil
}

// registerNamespace creates the namespace unless it exists, registers the search attributes,
// and waits until every node's frontend sees both: each caches namespaces and refreshes them
// on its own.
func (s *Stack) registerNamespace(ctx context.Context, nodes []*child) error {
	o := s.Options
	for i, node := range nodes {
		c, err := dialTemporal(ctx, o, node.current(), o.TemporalNodes[i].Frontend())
		if err != nil {
			return err
		}
		if i == 0 {
			err = createNamespace(ctx, c, o.TemporalNamespace)
			if err == nil {
				err = ensureSearchAttributes(ctx, c, o.TemporalNamespace)
			}
		}
		if err == nil {
			err = waitFor(ctx, node.current(), "the namespace's search attributes", func(ctx context.Context) error {
				return checkSearchAttributes(ctx, c, o.TemporalNamespace)
			})
		}
		c.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", node.name, err)
		}
	}
	return nil
}

// createNamespace registers namespace with temporalNamespaceRetention, unless it exists.
func createNamespace(ctx context.Context, c client.Client, namespace string) error {
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(temporalNamespaceRetention),
	})
	if _, exists := errors.AsType[*serviceerror.NamespaceAlreadyExists](err); exists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	return nil
}

// checkSearchAttributes reports the request workflows' search attributes c's frontend does
// not list yet.
func checkSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	missing, err := missingSearchAttributes(ctx, c, namespace)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("search attributes %s not listed yet", strings.Join(slices.Sorted(maps.Keys(missing)), ", "))
	}
	return nil
}
