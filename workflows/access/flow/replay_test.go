package flow

import (
	"bytes"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/platform/payloadcodec"
	"github.com/plateforme-rome/rome/platform/temporalx"
	"github.com/plateforme-rome/rome/workflows/access"
)

// The histories in testdata were recorded on a real Temporal dev server by
// internal/recordhistory. Access requests live for weeks (a week to verify the address, a
// month to answer a question, an admin's review without a deadline): the current code must
// replay what running requests have already done, or change through workflow.GetVersion.
// They replay through the worker's payload codec (a test key): written in clear, as those
// from before encryption was turned on, they pass through it.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) < 4 {
		t.Fatalf("recorded histories %v (%v): run internal/recordhistory", files, err)
	}
	codec, err := payloadcodec.New(map[string][]byte{"replay-test": bytes.Repeat([]byte{0x5a}, payloadcodec.KeySize)}, "replay-test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: temporalx.DataConverter(codec)})
			if err != nil {
				t.Fatal(err)
			}
			replayer.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: access.WorkflowType})
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}
