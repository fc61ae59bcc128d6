package app_test

import (
	"net/http"
	"testing"

	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

// A decision that closed its request, retried with its Idempotency-Key after the intake lost
// its answer (stopped between the update and recording it), gets the decision's outcome
// from the workflow, not a 409; a call without a key on a closed request is refused at once.
func TestApplyRetriedOnTheRequestItClosed(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, alice)
	r.Status = request.StatusRejected
	f.record(t, r, 2)
	f.wf.Result = request.UpdateResult{Request: r}

	_, err := f.svc.Apply(t.Context(), alice, app.Key{}, r.ID, &app.Withdraw{})
	wantProblem(t, err, 409, "request_closed")
	if n := f.wf.UpdateCount(); n != 0 {
		t.Fatalf("a keyless call on a closed request sent %d updates", n)
	}

	withdraw := &app.Withdraw{}
	k, err := app.NewKey(alice, "w-key", "POST /v1/requests/"+r.ID+"/withdraw", withdraw)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Apply(t.Context(), alice, k, r.ID, withdraw)
	if err != nil || a.Status != http.StatusOK {
		t.Fatalf("the retry: %+v %v, want the outcome the workflow kept", a, err)
	}
	if u := f.wf.LastUpdate(t); u.ID == "" {
		t.Fatalf("the retry's update has no id for Temporal to find its outcome by: %+v", u)
	}
	if again, err := f.svc.Apply(t.Context(), alice, k, r.ID, withdraw); err != nil || !again.Replayed || f.wf.UpdateCount() != 1 {
		t.Fatalf("once answered, the key replays without asking Temporal: %+v %v after %d updates", again, err, f.wf.UpdateCount())
	}
}
