package lifecycle

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/payloadcodec"
	"github.com/plateforme-rome/rome/platform/temporalx"
	"github.com/plateforme-rome/rome/workflows/request"
)

// replayCodec encrypts as the worker and the intake do in production, with a test key.
// The recorded histories were written in clear, as those from before encryption was turned
// on: they replay through it all the same.
var replayCodec = newReplayCodec("replay-test", 0x5a)

func newReplayCodec(id string, fill byte) *payloadcodec.Codec {
	c, err := payloadcodec.New(map[string][]byte{id: bytes.Repeat([]byte{fill}, payloadcodec.KeySize)}, id)
	if err != nil {
		panic(err)
	}
	return c
}

// newReplayer replays the request workflow with dc, the data converter of the worker.
func newReplayer(t *testing.T, dc converter.DataConverter, interceptors ...interceptor.WorkerInterceptor) worker.WorkflowReplayer {
	t.Helper()
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, Interceptors: interceptors})
	if err != nil {
		t.Fatal(err)
	}
	replayer.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: request.WorkflowType})
	return replayer
}

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
			if err := newReplayer(t, temporalx.DataConverter(replayCodec)).ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
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
		if err := newReplayer(t, temporalx.DataConverter(replayCodec), seen).ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Fatal(err)
		}
		sameJSON(t, filepath.Base(f)+": replayed change sets", seen.changeSets, recorded)
		checked += len(recorded)
	}
	if checked == 0 {
		t.Fatal("no recorded history publishes a change set: nothing was checked")
	}
}

// Histories are encrypted in production. A recorded one, each of its payloads encrypted as
// the worker and the intake write them, keeps nothing readable, replays with the key, and
// does not without it.
func TestReplayEncryptedHistory(t *testing.T) {
	file := filepath.Join("testdata", "published.json")
	history := loadHistory(t, file)
	var in RunInput
	started := history.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
	if err := converter.GetDefaultDataConverter().FromPayloads(started.GetInput(), &in); err != nil || in.Request.Title == "" {
		t.Fatalf("the input of %s: %+v %v", file, in, err)
	}
	encrypted := encryptHistory(t, history, replayCodec)
	raw, err := proto.Marshal(encrypted)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(in.Request.Title)) || bytes.Contains(raw, []byte(in.Request.SubmittedBy.Name)) {
		t.Fatal("the encrypted history still holds the request's title or its submitter's name")
	}

	if err := newReplayer(t, temporalx.DataConverter(replayCodec)).ReplayWorkflowHistory(nil, encrypted); err != nil {
		t.Fatalf("with the key: %v", err)
	}
	err = newReplayer(t, converter.GetDefaultDataConverter()).ReplayWorkflowHistory(nil, encrypted)
	if err == nil || !strings.Contains(err.Error(), payloadcodec.EncodingEncrypted) {
		t.Fatalf("without a codec: %v, want a failure on the encrypted payloads", err)
	}
	other := temporalx.DataConverter(newReplayCodec("another-key", 0x17))
	err = newReplayer(t, other).ReplayWorkflowHistory(nil, encrypted)
	if err == nil || !strings.Contains(err.Error(), `"replay-test"`) {
		t.Fatalf("with another key: %v, want a failure naming the missing key", err)
	}
}

func loadHistory(t *testing.T, file string) *historypb.History {
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
	return history
}

// encryptHistory is history with its payloads encrypted by codec, as the SDK's codec data
// converter writes them: all but the search attributes (the server indexes them) and the
// headers (the tracing interceptor writes them with the default converter).
func encryptHistory(t *testing.T, history *historypb.History, codec converter.PayloadCodec) *historypb.History {
	t.Helper()
	encrypted := proto.Clone(history).(*historypb.History)
	err := proxy.VisitPayloads(context.Background(), encrypted, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(vc *proxy.VisitPayloadsContext, payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
			if _, header := vc.Parent.(*commonpb.Header); header {
				return payloads, nil
			}
			return codec.Encode(payloads)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return encrypted
}

// recordedPublications are the change sets a recorded history scheduled for publication.
func recordedPublications(t *testing.T, file string) []refclient.ChangeSet {
	t.Helper()
	history := loadHistory(t, file)
	var out []refclient.ChangeSet
	for _, e := range history.GetEvents() {
		a := e.GetActivityTaskScheduledEventAttributes()
		if a.GetActivityType().GetName() != publishActivity {
			continue
		}
		var in referential.PublishInput
		if err := temporalx.DataConverter(replayCodec).FromPayloads(a.GetInput(), &in); err != nil {
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
