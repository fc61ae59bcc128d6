package devstack

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
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
	bin := filepath.Join(binDir, "temporal")
	if info, err := buildinfo.ReadFile(bin); err == nil && info.Main.Path == TemporalCLIModule && info.Main.Version == TemporalCLIVersion {
		return bin, nil
	}
	log("building the Temporal CLI %s into %s (a few minutes the first time)", TemporalCLIVersion, binDir)
	cmd := exec.CommandContext(ctx, "go", "install", TemporalCLIModule+"/cmd/temporal@"+TemporalCLIVersion)
	// Outside the workspace, so the CLI resolves its own dependencies.
	cmd.Dir = binDir
	cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install the Temporal CLI %s: %w\n%s", TemporalCLIVersion, err, out)
	}
	return bin, nil
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

// dialTemporal waits until the frontend answers its health check, or the server process
// exits, or ctx ends.
func dialTemporal(ctx context.Context, o Options, server *process) (client.Client, error) {
	// The services' settings, so the stack checks the server as they will reach it.
	cfg, err := temporalx.LoadConfig(temporalx.EnvList(o.TemporalClientEnv()), o.DevMode)
	if err != nil {
		return nil, err
	}
	opts, err := cfg.ClientOptions(slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
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
			return nil, fmt.Errorf("Temporal at %s did not become healthy: %w (last error: %v)", o.TemporalAddress, ctx.Err(), lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureSearchAttributes registers the attributes missing from the namespace. The
// --search-attribute flags only apply when temporal.db is created, so a state dir from
// before an attribute was added needs this.
func ensureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, key := range request.SearchAttributes {
		have, ok := existing.GetCustomAttributes()[key.GetName()]
		switch {
		case !ok:
			missing[key.GetName()] = key.GetValueType()
		case have != key.GetValueType():
			return fmt.Errorf("search attribute %s is %s in namespace %s, want %s: remove %s to start afresh",
				key.GetName(), have, namespace, key.GetValueType(), "temporal.db")
		}
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
