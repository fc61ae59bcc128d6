package lifecycle

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The histories in testdata were recorded on a real Temporal dev server by
// internal/recordhistory. Requests live for weeks: the current code must replay what
// running requests have already done, or change through workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("recorded histories %v (%v): run internal/recordhistory", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: request.WorkflowType})
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A request that was publishing when the worker was upgraded replays its history, then
// tries its publication again: it must send the very change set it sent before, since the
// referential refuses a change-set id sent again with another body. Replayed, the workflow
// schedules exactly the change sets the recorded histories hold (and, its changeSetTitleChange
// version being the default, goes on sending them).
func TestReplayedPublicationsSendTheRecordedChangeSets(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		recorded := recordedPublications(t, f)
		if len(recorded) == 0 {
			continue
		}
		seen := &publications{}
		replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
			Interceptors: []interceptor.WorkerInterceptor{seen}})
		if err != nil {
			t.Fatal(err)
		}
		replayer.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: request.WorkflowType})
		if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Fatal(err)
		}
		sameJSON(t, filepath.Base(f)+": replayed change sets", seen.changeSets, recorded)
		checked += len(recorded)
	}
	if checked == 0 {
		t.Fatal("no recorded history publishes a change set: nothing was checked")
	}
}

// recordedPublications are the change sets a recorded history scheduled for publication.
func recordedPublications(t *testing.T, file string) []refclient.ChangeSet {
	t.Helper()
	r, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	history, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []refclient.ChangeSet
	for _, e := range history.GetEvents() {
		a := e.GetActivityTaskScheduledEventAttributes()
		if a.GetActivityType().GetName() != publishActivity {
			continue
		}
		var in referential.PublishInput
		if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in); err != nil {
			t.Fatal(err)
		}
		out = append(out, in.ChangeSet)
	}
	return out
}

const publishActivity = "PublishChangeSet"

// publications is a worker interceptor recording the change sets a workflow schedules for
// publication.
type publications struct {
	interceptor.WorkerInterceptorBase
	changeSets []refclient.ChangeSet
}

func (p *publications) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &publicationsInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, p: p}
}

type publicationsInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	p *publications
}

func (i *publicationsInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&publicationsOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, p: i.p})
}

type publicationsOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	p *publications
}

func (o *publicationsOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if activityType == publishActivity {
		o.p.changeSets = append(o.p.changeSets, args[0].(referential.PublishInput).ChangeSet)
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}
