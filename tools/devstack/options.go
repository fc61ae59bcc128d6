// Package devstack runs the whole platform on one machine: a Temporal dev server, the
// referential loaded with the ROME data, and the services (the console included) built
// from this checkout.
// `make dev` (cmd/devstack) and the end-to-end tests (tests/e2e) both start it through Start.
package devstack

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/plateforme-rome/rome/platform/config"
)

// Ports are the HTTP ports the stack listens on, all on 127.0.0.1.
type Ports struct {
	Console       int // the web console, what people open in a browser
	Intake        int
	Referential   int
	Notifications int
	Worker        int // the worker's health endpoints
	TemporalUI    int
	Graph         int // the Microsoft Graph emulator (HTTPS)
	SMTP          int // the SMTP sink the notifications service sends e-mail to
	Mail          int // the SMTP sink's HTTP view of the messages it received
}

// portVar ties a port to its environment variable and documented default.
type portVar struct {
	env  string
	def  int
	port func(*Ports) *int
}

var (
	consolePort       = portVar{"CONSOLE_PORT", 8080, func(p *Ports) *int { return &p.Console }}
	intakePort        = portVar{"INTAKE_PORT", 8081, func(p *Ports) *int { return &p.Intake }}
	referentialPort   = portVar{"REFERENTIAL_PORT", 8082, func(p *Ports) *int { return &p.Referential }}
	notificationsPort = portVar{"NOTIFICATIONS_PORT", 8083, func(p *Ports) *int { return &p.Notifications }}
	workerPort        = portVar{"WORKER_PORT", 8084, func(p *Ports) *int { return &p.Worker }}
	temporalUIPort    = portVar{"TEMPORAL_UI_PORT", 8233, func(p *Ports) *int { return &p.TemporalUI }}
	graphPort         = portVar{"GRAPH_EMULATOR_PORT", 8090, func(p *Ports) *int { return &p.Graph }}
	smtpPort          = portVar{"SMTP_SINK_PORT", 2525, func(p *Ports) *int { return &p.SMTP }}
	mailPort          = portVar{"SMTP_SINK_HTTP_PORT", 8025, func(p *Ports) *int { return &p.Mail }}
	portVars          = []portVar{consolePort, intakePort, referentialPort, notificationsPort, workerPort, temporalUIPort, graphPort, smtpPort, mailPort}
)

// Options configure a stack. Zero fields take the documented defaults, except DataDir
// (empty skips the import) and DevMode; OptionsFromEnv fills those from the environment.
type Options struct {
	RepoRoot          string // the checkout holding go.work; default: found from the working directory
	StateDir          string // binaries, logs, temporal.db and the SQLite files; default <RepoRoot>/.dev
	ToolsDir          string // where the Temporal CLI is built once; default <StateDir>/bin
	DataDir           string // ROME 4.0 CSV export to import when the referential is empty; "" skips the import
	DatabaseURL       string // PostgreSQL DSN; "" gives each service a SQLite file in StateDir
	Ports             Ports
	TemporalAddress   string // host:port of the dev server's gRPC frontend; default 127.0.0.1:7233
	TemporalNamespace string // default "default"
	// Temporal is what serves Temporal: TemporalDev (default) or TemporalCluster, two server
	// nodes on PostgreSQL behind a proxy at TemporalAddress (temporal_cluster.go).
	Temporal TemporalMode
	// Cluster mode: Temporal's persistence and visibility databases (postgres:// URLs, created
	// and migrated at start); default <database>_temporal and <database>_temporal_visibility
	// beside DatabaseURL's, or rome_temporal… on 127.0.0.1:5432 when DatabaseURL is empty.
	TemporalDatabaseURL           string
	TemporalVisibilityDatabaseURL string
	// Cluster mode: each node's ports; default two nodes on 7234-7249.
	TemporalNodes []TemporalNodePorts
	TaskQueue     string // default "rome-requests"
	DevMode       bool   // ROME_DEV_MODE for the services: dev token endpoint and dev JWKS
	// Replicas is how many processes of each service and of the worker run (ROME_REPLICAS,
	// default 1), on PostgreSQL only; with more than one, each service's public port is a
	// round-robin proxy to them (replicas.go).
	Replicas int
	ExtraEnv []string
	// RestartCrashed restarts a member of the stack that exits on its own once started,
	// with backoff (1 s, doubling up to 30 s; back to 1 s once it stayed up a minute), and
	// says so in Log, instead of reporting it on Failed. `make dev` turns it on; the e2e
	// tests leave it off: they kill and restart on purpose (Kill, Restart), and a crash
	// there is a failure.
	RestartCrashed bool

	Log          io.Writer // devstack progress; nil discards it
	ChildOutput  io.Writer // children's output prefixed with their name; nil keeps it in the log files only
	ReadyTimeout time.Duration
	StopTimeout  time.Duration // after SIGTERM, before SIGKILL
}

// OptionsFromEnv reads the shared environment variables (ROME_STATE_DIR, ROME_DATA_DIR,
// DATABASE_URL, ROME_DEV_MODE, ROME_REPLICAS, *_PORT, TEMPORAL_*, ROME_TEMPORAL*) the way the services do, and resolves
// the defaults, so that `make dev` honours them. Dev mode is on unless ROME_DEV_MODE says otherwise.
func OptionsFromEnv() (Options, error) {
	o := Options{
		StateDir:          config.String("ROME_STATE_DIR", ""),
		DataDir:           config.String("ROME_DATA_DIR", ""),
		DatabaseURL:       config.String("DATABASE_URL", ""),
		TemporalAddress:   config.String("TEMPORAL_ADDRESS", ""),
		TemporalNamespace: config.String("TEMPORAL_NAMESPACE", ""),
		TaskQueue:         config.String("TEMPORAL_TASK_QUEUE", ""),

		TemporalDatabaseURL:           config.String("ROME_TEMPORAL_DATABASE_URL", ""),
		TemporalVisibilityDatabaseURL: config.String("ROME_TEMPORAL_VISIBILITY_DATABASE_URL", ""),
	}
	var err error
	if o.Temporal, err = TemporalModeFromEnv(); err != nil {
		return Options{}, err
	}
	if o.DevMode, err = config.Bool("ROME_DEV_MODE", true); err != nil {
		return Options{}, err
	}
	if o.Replicas, err = config.Int("ROME_REPLICAS", 1); err != nil {
		return Options{}, err
	}
	for _, pv := range portVars {
		if *pv.port(&o.Ports), err = config.Port(pv.env, pv.def); err != nil {
			return Options{}, err
		}
	}
	if err := o.resolve(); err != nil {
		return Options{}, err
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir(o.RepoRoot)
	}
	return o, nil
}

// DefaultDataDir is the ROME export shipped next to the checkout (../shared/data/rome4),
// or "" when there is none.
func DefaultDataDir(repoRoot string) string {
	dir := filepath.Join(filepath.Dir(repoRoot), "shared", "data", "rome4")
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir
	}
	return ""
}

// resolve fills the defaults, makes paths absolute and validates the result.
func (o *Options) resolve() error {
	if o.RepoRoot == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if o.RepoRoot, err = FindRepoRoot(wd); err != nil {
			return err
		}
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(o.RepoRoot, ".dev")
	}
	if o.ToolsDir == "" {
		o.ToolsDir = filepath.Join(o.StateDir, "bin")
	}
	for _, p := range []*string{&o.RepoRoot, &o.StateDir, &o.ToolsDir, &o.DataDir} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	for _, pv := range portVars {
		if p := pv.port(&o.Ports); *p == 0 {
			*p = pv.def
		}
	}
	if o.TemporalAddress == "" {
		o.TemporalAddress = "127.0.0.1:7233"
	}
	if _, _, err := splitHostPort(o.TemporalAddress); err != nil {
		return fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	if o.TemporalNamespace == "" {
		o.TemporalNamespace = "default"
	}
	if o.TaskQueue == "" {
		o.TaskQueue = "rome-requests"
	}
	if err := o.resolveTemporal(); err != nil {
		return err
	}
	if err := o.resolveReplicas(); err != nil {
		return err
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// FindRepoRoot walks up from dir to the directory holding go.work.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work in %s or its parents: run from inside the repository", dir)
		}
	}
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a TCP port (1-65535)", s)
	}
	return n, nil
}

// splitHostPort parses a TEMPORAL_ADDRESS such as 127.0.0.1:7233.
func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q: want host:port", addr)
	}
	if host == "" {
		return "", 0, errors.New("host is empty in " + strconv.Quote(addr))
	}
	n, err := parsePort(port)
	return host, n, err
}

// FreePort asks the kernel for a TCP port that is free on 127.0.0.1 right now.
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// UseFreePorts gives every member of the stack and Temporal (the dev server, or the
// cluster's proxy and nodes) a port free on 127.0.0.1 now, all distinct: what tests and
// benchmarks that run beside other stacks use.
func (o *Options) UseFreePorts() error {
	ports, err := FreePorts(len(portVars) + 1)
	if err != nil {
		return err
	}
	for i, pv := range portVars {
		*pv.port(&o.Ports) = ports[i]
	}
	o.TemporalAddress = "127.0.0.1:" + strconv.Itoa(ports[len(portVars)])
	nodePorts, err := freePortsBelow(temporalClusterNodes*temporalNodePortCount, maxTemporalMembershipPort+1)
	if err != nil {
		return err
	}
	o.TemporalNodes = nil
	for rest := nodePorts; len(rest) > 0; rest = rest[temporalNodePortCount:] {
		o.TemporalNodes = append(o.TemporalNodes, nodePortsFrom(rest))
	}
	return nil
}

// FreePorts asks the kernel for n distinct TCP ports free on 127.0.0.1 right now: the
// listeners stay open until all are taken, since one closed at once can be handed out again
// (two members of a stack on one port).
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
