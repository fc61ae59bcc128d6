package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

func openRelease(n int, changeSets ...string) refclient.Release {
	r := refclient.Release{Number: n, Status: refclient.ReleaseOpen}
	for _, id := range changeSets {
		r.ChangeSets = append(r.ChangeSets, refclient.StagedChangeSet{ID: id, RequestID: id, Status: refclient.StagedWaiting})
	}
	return r
}

func TestCutRelease(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	e.ref.Next = openRelease(7, "r1-decision-1", "r2-decision-1")
	first := call(t, e.h, "POST", "/v1/releases", "", who.admin, "Idempotency-Key", "cut-7")
	if first.status != http.StatusAccepted || first.body["release"] != float64(7) || first.body["workflowId"] != "release-7" ||
		first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("cut: %d %s", first.status, first.raw)
	}
	if !slices.Equal(e.wf.Releases, []int{7}) {
		t.Fatalf("release workflows started %v, want 7's", e.wf.Releases)
	}

	// Release 7 is frozen now, and 8 is open: a retry with the key answers the first answer
	// instead of cutting 8 as well.
	e.ref.Next = openRelease(8, "r3-decision-1")
	again := call(t, e.h, "POST", "/v1/releases", "", who.admin, "Idempotency-Key", "cut-7")
	if again.status != http.StatusAccepted || again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s", again.status, again.raw)
	}
	if res := call(t, e.h, "POST", "/v1/releases", "{}", who.admin); res.status != http.StatusAccepted || res.body["workflowId"] != "release-8" {
		t.Fatalf("a new cut: %d %s", res.status, res.raw)
	}
	if !slices.Equal(e.wf.Releases, []int{7, 8}) {
		t.Fatalf("release workflows started %v, want 7's then 8's", e.wf.Releases)
	}

	wantProblem(t, call(t, e.h, "POST", "/v1/releases", "", who.moderator), http.StatusForbidden, "forbidden_role")
	wantProblem(t, call(t, e.h, "POST", "/v1/releases", "", who.partner), http.StatusForbidden, "forbidden_role")
	wantProblem(t, call(t, e.h, "POST", "/v1/releases", "", ""), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, call(t, e.h, "POST", "/v1/releases", `{"release":9}`, who.admin), http.StatusUnprocessableEntity, "invalid_body", "release")
	wantProblem(t, call(t, e.h, "POST", "/v1/releases", `{"x":"`+strings.Repeat("x", maxSmallBody)+`"}`, who.admin),
		http.StatusRequestEntityTooLarge, "body_too_large")
	if len(e.wf.Releases) != 2 {
		t.Fatalf("refused calls started release workflows: %v", e.wf.Releases)
	}
}

// When there is nothing to cut, or the cut cannot be started, nothing starts and the admin
// is told why.
func TestCutReleaseRefused(t *testing.T) {
	cases := []struct {
		name      string
		next      refclient.Release
		nextErr   error
		startErr  error
		status    int
		code      string
		attempted bool // a start was asked of Temporal
	}{
		{name: "release trains off", nextErr: &refclient.Error{Status: 409, Code: refclient.CodeReleaseTrainsOff, Detail: "PUBLICATION_MODE is immediate"},
			status: http.StatusConflict, code: refclient.CodeReleaseTrainsOff},
		{name: "nothing staged", next: openRelease(7), status: http.StatusConflict, code: refclient.CodeReleaseEmpty},
		{name: "nothing staged, says the referential", nextErr: &refclient.Error{Status: 409, Code: refclient.CodeReleaseEmpty, Detail: "empty"},
			status: http.StatusConflict, code: refclient.CodeReleaseEmpty},
		{name: "referential down", nextErr: errors.New("connection refused"), status: http.StatusServiceUnavailable, code: "referential_unavailable"},
		{name: "referential refuses", nextErr: &refclient.Error{Status: 403, Code: "forbidden_role", Detail: "no"},
			status: http.StatusBadGateway, code: "referential_refused"},
		{name: "Temporal down", next: openRelease(7, "r1-decision-1"), startErr: errors.New("connection refused"),
			status: http.StatusServiceUnavailable, code: "workflow_unavailable", attempted: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			who := e.cast(t)
			e.ref.Next, e.ref.NextErr, e.wf.StartErr = tc.next, tc.nextErr, tc.startErr
			wantProblem(t, call(t, e.h, "POST", "/v1/releases", "", who.admin, "Idempotency-Key", "cut"), tc.status, tc.code)
			if attempted := len(e.wf.Releases) > 0; attempted != tc.attempted {
				t.Errorf("start asked: %v, want %v", attempted, tc.attempted)
			}
			// A refusal is not the key's answer: once the cause is gone, the retry cuts.
			e.ref.Next, e.ref.NextErr, e.wf.StartErr = openRelease(7, "r1-decision-1"), nil, nil
			if res := call(t, e.h, "POST", "/v1/releases", "", who.admin, "Idempotency-Key", "cut"); res.status != http.StatusAccepted {
				t.Errorf("retry: %d %s", res.status, res.raw)
			}
		})
	}
}

// A request waiting in a release reads and lists as ACCEPTED, with its release.
func TestAcceptedRequests(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id := e.submit(t, who.partner)
	other := e.submit(t, who.partner)
	r := e.requestDoc(t, id)
	release := 7
	r.Status, r.Release, r.ChangeSetID, r.UpdatedAt = request.StatusAccepted, &release, id+"-decision-1", r.UpdatedAt.Add(time.Minute)
	data, _ := json.Marshal(request.EventData{ChangeSetID: r.ChangeSetID, Release: release})
	if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: id, Seq: 1, Type: request.EventStaged, At: r.UpdatedAt,
		Actor: request.SystemActor, Data: data, Request: r}); err != nil {
		t.Fatal(err)
	}

	list := call(t, e.h, "GET", "/v1/requests?status=ACCEPTED", "", who.moderator)
	items, _ := list.body["items"].([]any)
	if list.status != http.StatusOK || len(items) != 1 || list.body["total"] != float64(1) {
		t.Fatalf("ACCEPTED requests: %d %s", list.status, list.raw)
	}
	if got := items[0].(map[string]any); got["id"] != id || got["status"] != "ACCEPTED" || got["release"] != float64(7) {
		t.Errorf("listed %v", got)
	}
	if res := call(t, e.h, "GET", "/v1/requests/"+other, "", who.partner); res.body["release"] != nil {
		t.Errorf("a request in no release: release %v", res.body["release"])
	}
	history := call(t, e.h, "GET", "/v1/requests/"+id+"/history", "", who.partner)
	entries, _ := history.body["items"].([]any)
	if history.status != http.StatusOK || len(entries) != 1 || entries[0].(map[string]any)["type"] != request.EventStaged {
		t.Errorf("history: %d %s", history.status, history.raw)
	}
}
