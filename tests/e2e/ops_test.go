package e2e

// What ops see: one trace per request across the services, and the request's summary in
// the Temporal UI, whose histories are encrypted and read through the intake's codec.

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/plateforme-rome/rome/workflows/request"
)

// traceSink receives the services' spans over OTLP/HTTP, as a collector would, and keeps
// the services each trace went through.
type traceSink struct {
	url string

	mu       sync.Mutex
	services map[string][]string // trace id (hex) → service.name of its spans, in arrival order
	spans    map[string][]string // trace id (hex) → "service: span name"
}

// startTraceSink listens on a free loopback port until the test ends.
func startTraceSink(t *testing.T) *traceSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &traceSink{url: "http://" + ln.Addr().String(), services: map[string][]string{}, spans: map[string][]string{}}
	srv := &http.Server{Handler: http.HandlerFunc(s.receive), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// env points every service's trace exporter at the sink, flushing often.
func (s *traceSink) env() []string {
	return []string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + s.url + "/v1/traces",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf",
		"OTEL_BSP_SCHEDULE_DELAY=200",
	}
}

func (s *traceSink) receive(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	var req collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, span := range ss.GetSpans() {
				id := hex.EncodeToString(span.GetTraceId())
				s.services[id] = append(s.services[id], service)
				s.spans[id] = append(s.spans[id], service+": "+span.GetName())
			}
		}
	}
	s.mu.Unlock()
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// waitServices waits until the trace has spans from every service in want.
func (s *traceSink) waitServices(t *testing.T, traceID string, want []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s.mu.Lock()
		got, spans := slices.Clone(s.services[traceID]), slices.Clone(s.spans[traceID])
		s.mu.Unlock()
		missing := slices.DeleteFunc(slices.Clone(want), func(svc string) bool { return slices.Contains(got, svc) })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s has no span from %v; its spans: %q", traceID, missing, spans)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A submission is one trace: the caller's traceparent is continued by the intake, the
// workflow and its activities on the worker, and the services they call. Ops then find the
// request in the Temporal UI by its summary, which the UI decrypts through the intake's codec
// route: the history itself is encrypted.
func testOneTracePerRequest(t *testing.T, p *platform) {
	who := cast(t, p, "traced")
	var id [16]byte
	var parent [8]byte
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(parent[:])
	traceID := hex.EncodeToString(id[:])
	var r requestView
	status, _, body := callWithHeaders(t, http.MethodPost, p.Intake+"/v1/requests", who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "M1805", "title": "Développeur Zig", "justification": "Offres observées.",
		"operations": []map[string]any{{"op": "add_appellation", "libelle": "Développeur / Développeuse Zig"}},
	}, map[string]string{"traceparent": fmt.Sprintf("00-%s-%x-01", traceID, parent)})
	if status != http.StatusCreated || json.Unmarshal(body, &r) != nil {
		t.Fatalf("submit: %d %s", status, body)
	}
	waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second)
	p.traces.waitServices(t, traceID, []string{"intake", "worker", "referential", "notifications"}, 20*time.Second)

	c, err := client.Dial(client.Options{HostPort: p.TemporalAddress, Namespace: p.namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.WorkflowService().DescribeWorkflowExecution(context.Background(), &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: p.namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: request.WorkflowID(r.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	summary := d.GetExecutionConfig().GetUserMetadata().GetSummary()
	if enc := string(summary.GetMetadata()["encoding"]); enc != "binary/encrypted" {
		t.Fatalf("the summary is stored as %q, want it encrypted", enc)
	}
	// What the Temporal UI sends the codec endpoint: the payloads in protobuf JSON.
	raw, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{summary}})
	if err != nil {
		t.Fatal(err)
	}
	status, _, body = callWithHeaders(t, http.MethodPost, p.Intake+"/codec/decode", "", json.RawMessage(raw),
		map[string]string{"X-Namespace": p.namespace, "Content-Type": "application/json"})
	var decoded struct {
		Payloads []struct {
			Metadata map[string]string `json:"metadata"`
			Data     string            `json:"data"`
		} `json:"payloads"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &decoded) != nil || len(decoded.Payloads) != 1 {
		t.Fatalf("codec decode: %d %s", status, body)
	}
	text, _ := base64.StdEncoding.DecodeString(decoded.Payloads[0].Data)
	if want := fmt.Sprintf("%q", "M1805 · Développeur Zig · "+who.org); string(text) != want {
		t.Errorf("decoded summary %s, want %s", text, want)
	}
}
