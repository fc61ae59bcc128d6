// Package recording is what the recorders of workflow histories share
// (request/lifecycle/internal/recordhistory, access/flow/internal/recordhistory): a Temporal
// dev server from the CLI that `make dev` builds, with the platform's search attributes, and
// histories saved as the Temporal CLI exports them, where the replay tests read them.
package recording

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/plateforme-rome/rome/workflows/request"
)

// StartDevServer starts a dev server from the Temporal CLI at temporalBin (empty:
// .dev/bin/temporal at the repository root, the folder of go.work above the current one).
func StartDevServer(ctx context.Context, temporalBin string) (*testsuite.DevServer, error) {
	if temporalBin == "" {
		root, err := repoRoot()
		if err != nil {
			return nil, err
		}
		temporalBin = filepath.Join(root, ".dev", "bin", "temporal")
	}
	args := []string{"--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
		"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1", "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1"}
	for _, k := range request.SearchAttributes {
		args = append(args, "--search-attribute", k.GetName()+"="+k.GetValueType().String())
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	return testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: temporalBin, ExtraArgs: args, LogLevel: "error",
		ClientOptions: &client.Options{Logger: logger}})
}

// repoRoot is the folder of go.work, above the current one.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the current folder: pass -temporal")
		}
		dir = parent
	}
}

// SaveHistory writes the history of a workflow run to path and returns its number of events.
func SaveHistory(ctx context.Context, c client.Client, workflowID, runID, path string) (int, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, err
		}
		h.Events = append(h.Events, e)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		return 0, err
	}
	return len(h.Events), os.WriteFile(path, append(b, '\n'), 0o644)
}

// Main is a recorder's main: it reads the flags -temporal (the Temporal CLI, see
// StartDevServer) and -out (where to write the histories, default defaultOut), starts the
// dev server and has record run the scenarios on it, within five minutes; a failure ends
// the process with status 1.
func Main(defaultOut string, record func(ctx context.Context, c client.Client, out string) error) {
	temporalBin := flag.String("temporal", "", "the Temporal CLI (default: .dev/bin/temporal at the repository root)")
	out := flag.String("out", defaultOut, "where to write the histories")
	flag.Parse()
	if err := run(*temporalBin, *out, record); err != nil {
		fmt.Fprintln(os.Stderr, "recordhistory:", err)
		os.Exit(1)
	}
}

func run(temporalBin, out string, record func(ctx context.Context, c client.Client, out string) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := StartDevServer(ctx, temporalBin)
	if err != nil {
		return err
	}
	defer srv.Stop()
	return record(ctx, srv.Client(), out)
}

// Update sends an update to a workflow run, as the intake does, and waits for its result
// (out, which may be nil); a refusal is an error naming the update.
func Update(ctx context.Context, c client.Client, workflowID, runID, name string, in, out any) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, RunID: runID,
		UpdateName: name, Args: []any{in}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
