package devstack

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/plateforme-rome/rome/platform/temporalx"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The Temporal CLI is built from source at a pinned version (it embeds the dev server and UI).
const (
	TemporalCLIModule  = "github.com/temporalio/cli"
	TemporalCLIVersion = "v1.5.1"
)

// temporalDynamicConfig tunes the dev server for one laptop instead of a cluster: it
// polls its transfer queue far more often and keeps one partition per task queue, which
// takes a one-activity workflow from ~150 ms to ~15 ms (docs/performance.md).
var temporalDynamicConfig = []string{
	"history.transferProcessorMaxPollRPS=1000",
	"matching.numTaskqueueReadPartitions=1",
	"matching.numTaskqueueWritePartitions=1",
}

// ensureTemporalCLI returns binDir/temporal, installing it unless the binary there was
// built from the pinned version (read from its embedded build info: go install does not
// stamp the version the CLI prints).
func ensureTemporalCLI(ctx context.Context, binDir string, log func(string, ...any)) (string, error) {
	return filepath.Join(binDir, "temporal"), goInstall(ctx, binDir, TemporalCLIModule, TemporalCLIVersion, log, TemporalCLIModule+"/cmd/temporal")
}

// goInstall builds pkgs, commands of module at version, into binDir, unless every binary
// there names that module and version in its embedded build info. It runs outside the
// workspace (GOWORK=off), so the module builds with its own dependencies, fetched by the go
// command from the module proxy: no binary is downloaded.
func goInstall(ctx context.Context, binDir, module, version string, log func(string, ...any), pkgs ...string) error {
	args := []string{"install"}
	built := true
	for _, pkg := range pkgs {
		info, err := buildinfo.ReadFile(filepath.Join(binDir, path.Base(pkg)))
		built = built && err == nil && info.Main.Path == module && info.Main.Version == version
		args = append(args, pkg+"@"+version)
	}
	if built {
		return nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	log("building %s %s into %s (a few minutes the first time)", module, version, binDir)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = binDir
	cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s %s: %w\n%s", module, version, err, out)
	}
	return nil
}

// temporalServerArgs are the arguments of `temporal server start-dev`.
func (o Options) temporalServerArgs() []string {
	host, port, _ := splitHostPort(o.TemporalAddress) // validated by resolve
	args := []string{
		"server", "start-dev",
		"--ip", host,
		"--port", strconv.Itoa(port),
		"--ui-port", strconv.Itoa(o.Ports.TemporalUI),
		"--db-filename", filepath.Join(o.StateDir, "temporal.db"),
		// WAL with normal sync: a crash of the dev server loses nothing, and writes stop
		// waiting on an fsync each (several times faster workflow starts and updates).
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=normal",
		"--namespace", o.TemporalNamespace,
		"--log-level", "warn",
		// Histories are encrypted: the UI decrypts them through the intake's codec routes
		// (dev mode serves its requests without a token, which this UI cannot forward).
		"--ui-codec-endpoint", localURL(o.Ports.Intake) + "/codec",
	}
	for _, kv := range temporalDynamicConfig {
		args = append(args, "--dynamic-config-value", kv)
	}
	for _, key := range request.SearchAttributes {
		args = append(args, "--search-attribute", key.GetName()+"="+key.GetValueType().String())
	}
	return args
}

// dialTemporal waits until the frontend at hostPort answers its health check, or the server
// process exits, or ctx ends.
func dialTemporal(ctx context.Context, o Options, server *process, hostPort string) (client.Client, error) {
	// The services' settings, so the stack checks the server as they will reach it.
	cfg, err := temporalx.LoadConfig(temporalx.EnvList(o.TemporalClientEnv()), o.DevMode)
	if err != nil {
		return nil, err
	}
	opts, err := cfg.ClientOptions(slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	opts.HostPort = hostPort
	var lastErr error
	for {
		dialCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := client.DialContext(dialCtx, opts)
		if err == nil {
			_, err = c.CheckHealth(dialCtx, &client.CheckHealthRequest{})
			if err == nil {
				cancel()
				return c, nil
			}
			c.Close()
		}
		cancel()
		lastErr = err
		select {
		case <-server.done:
			return nil, server.failure("exited during startup")
		case <-ctx.Done():
			return nil, fmt.Errorf("Temporal at %s did not become healthy: %w (last error: %v)", hostPort, ctx.Err(), lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureSearchAttributes registers the attributes missing from the namespace. The
// --search-attribute flags only apply when temporal.db is created, so a state dir from
// before an attribute was added needs this.
func ensureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	missing, err := missingSearchAttributes(ctx, c, namespace)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// missingSearchAttributes lists the request workflows' search attributes that c's frontend
// does not list for the namespace, and fails on one listed with another type.
func missingSearchAttributes(ctx context.Context, c client.Client, namespace string) (map[string]enumspb.IndexedValueType, error) {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, key := range request.SearchAttributes {
		have, ok := existing.GetCustomAttributes()[key.GetName()]
		switch {
		case !ok:
			missing[key.GetName()] = key.GetValueType()
		case have != key.GetValueType():
			return nil, fmt.Errorf("search attribute %s is %s in namespace %s, want %s: start Temporal afresh "+
				"(the dev server: remove temporal.db; the cluster: drop its databases)",
				key.GetName(), have, namespace, key.GetValueType())
		}
	}
	return missing, nil
}

// launchTemporal starts what serves Temporal in the stack's mode, without waiting for it.
func (s *Stack) launchTemporal(ctx context.Context) error {
	o := s.Options
	if o.Temporal == TemporalCluster {
		return s.launchTemporalCluster(ctx)
	}
	temporalBin, err := ensureTemporalCLI(ctx, o.ToolsDir, s.logf)
	if err != nil {
		return err
	}
	s.logf("starting Temporal dev server on %s (UI %s, state in %s)", o.TemporalAddress, s.Endpoints.TemporalUI, filepath.Join(o.StateDir, "temporal.db"))
	server := s.newChild("temporal", temporalBin, os.Environ(), o.temporalServerArgs(), s.waitTemporal)
	s.temporal = []*child{server}
	return s.launchChild(server)
}

// awaitTemporal waits until Temporal serves the namespace, its search attributes and the UI.
func (s *Stack) awaitTemporal(ctx context.Context) error {
	if s.Options.Temporal == TemporalCluster {
		return s.awaitTemporalCluster(ctx)
	}
	return s.awaitChild(ctx, s.temporal[0])
}

// StartTemporal starts Temporal alone, in opts.Temporal's mode, as Start would, and returns
// once it serves (`make temporal-cluster`).
func StartTemporal(ctx context.Context, opts Options) (*Stack, error) {
	return startWith(ctx, opts, func(s *Stack, ctx context.Context) error {
		if err := s.makeDirs(); err != nil {
			return err
		}
		if err := checkFree(s.Options.temporalAddrs()); err != nil {
			return err
		}
		if err := s.launchTemporal(ctx); err != nil {
			return err
		}
		return s.awaitTemporal(ctx)
	})
}

// temporalAddrs are the addresses Temporal listens on in the stack's mode, named for errors.
func (o Options) temporalAddrs() map[string]string {
	addrs := map[string]string{"TEMPORAL_ADDRESS": o.TemporalAddress, temporalUIPort.env: "127.0.0.1:" + strconv.Itoa(o.Ports.TemporalUI)}
	if o.Temporal == TemporalCluster {
		maps.Copy(addrs, o.temporalClusterAddrs())
	}
	return addrs
}
