package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

const testClientState = "s3cret-client-state"

func TestGraphWebhook(t *testing.T) {
	e := newEnv(t)
	// A request whose projection knows its Teams channel.
	r := request.Request{ID: "req-teams", Kind: request.KindModifyFiche, CodeRome: "M1805", Title: "T", Justification: "J",
		Status: request.StatusInReview, Org: "opco-2i", SubmittedBy: request.Actor{Sub: "alice", Role: "partner", Org: "opco-2i"},
		Teams:     &request.TeamsChannel{ChannelID: "19:abc@thread.tacv2", WebURL: "https://teams/c", Name: "req"},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := e.store.RecordEvent(context.Background(), request.Event{RequestID: r.ID, Seq: 1, Type: request.EventSubmitted, At: time.Now(),
		Actor: r.SubmittedBy, Data: []byte(`{}`), Request: r}); err != nil {
		t.Fatal(err)
	}
	post := func(target, body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, target, strings.NewReader(body)))
		return w
	}

	// The subscription handshake echoes the token as text.
	w := post("/webhooks/graph?validationToken=abc%20123", "")
	if w.Code != 200 || w.Body.String() != "abc 123" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("handshake: %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Type"))
	}

	notification := func(state, resource string) string {
		return `{"value":[{"subscriptionId":"sub-1","clientState":"` + state + `","changeType":"created","resource":"` + resource + `"}]}`
	}
	resource := "teams('rome-team')/channels('19:abc@thread.tacv2')/messages('1700000000000')"
	if w := post("/webhooks/graph", notification("wrong", resource)); w.Code != http.StatusAccepted || len(e.wf.Signals) != 0 {
		t.Fatalf("a wrong client state must be ignored: %d, %d signals", w.Code, len(e.wf.Signals))
	}
	if w := post("/webhooks/graph", notification(testClientState, "teams('rome-team')/channels('unknown')/messages('1')")); w.Code != http.StatusAccepted || len(e.wf.Signals) != 0 {
		t.Fatalf("a channel of no request must be ignored: %d, %d signals", w.Code, len(e.wf.Signals))
	}
	if w := post("/webhooks/graph", notification(testClientState, resource)); w.Code != http.StatusAccepted {
		t.Fatalf("notification: %d %s", w.Code, w.Body)
	}
	if len(e.wf.Signals) != 1 || e.wf.Signals[0] != (request.TeamsReply{ChannelID: "19:abc@thread.tacv2", MessageID: "1700000000000"}) {
		t.Fatalf("signals %+v", e.wf.Signals)
	}
	if w := post("/webhooks/graph", "{not json"); w.Code != http.StatusBadRequest {
		t.Errorf("malformed body: %d", w.Code)
	}
	e.wf.Err = app.ErrWorkflowUnavailable
	if w := post("/webhooks/graph", notification(testClientState, resource)); w.Code != http.StatusServiceUnavailable {
		t.Errorf("Temporal down must make Graph retry: %d", w.Code)
	}
}

// The workflow learns where Graph notifies and the request's link, never the client state.
func TestStartInputKeepsTheClientStateOut(t *testing.T) {
	e := newEnv(t)
	id := e.submit(t, e.cast(t).partner)
	if e.wf.StartCount() != 1 {
		t.Fatalf("%d starts", e.wf.StartCount())
	}
	in := e.wf.Starts[0]
	if in.Teams == nil || in.Teams.NotificationURL != "https://rome.example/webhooks/graph" || in.Teams.ClientState != "" {
		t.Errorf("teams input %+v", in.Teams)
	}
	if in.Link != "https://rome.example/v1/requests/"+id {
		t.Errorf("link %q", in.Link)
	}
}

// With the web console configured, notifications and Teams lead to the request's page there.
func TestStartInputLinksToTheConsole(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.ConsoleURL = "https://console.rome.example" })
	id := e.submit(t, e.cast(t).partner)
	if in := e.wf.Starts[0]; in.Link != "https://console.rome.example/demandes/"+id {
		t.Errorf("link %q", in.Link)
	}
}
