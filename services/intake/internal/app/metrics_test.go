package app_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/platform/telemetry/telemetrytest"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/services/intake/internal/app/apptest"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// meteredFixture is newFixture's use cases with their own meter, at clock now.
func meteredFixture(t *testing.T, now time.Time) (*fixture, *telemetrytest.Reader) {
	t.Helper()
	t.Parallel()
	st := store.New(dbtest.Open(t, database.SQLite))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	meter, reader := telemetrytest.NewMeter(t)
	cfg := config
	cfg.Now, cfg.Meter = func() time.Time { return now }, meter
	f := &fixture{store: st, wf: &apptest.Workflows{}, ref: &apptest.Referential{}}
	f.svc = app.New(st, f.wf, f.ref, cfg)
	return f, reader
}

// moveTo plays the workflow's part: the request enters status at at.
func (f *fixture) moveTo(t *testing.T, r request.Request, seq int, status request.Status, at time.Time) request.Request {
	t.Helper()
	r.Status = status
	if _, err := f.store.RecordEvent(t.Context(), request.Event{RequestID: r.ID, Seq: seq, Type: request.EventChecked, At: at,
		Actor: request.SystemActor, Data: json.RawMessage(`{}`), Request: r}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGaugesCountTheRequestsByStatusAndTheOverdueOnes(t *testing.T) {
	now := t0.Add(3 * time.Hour)
	f, metrics := meteredFixture(t, now)
	// The triage reminder comes after an hour, the decision's after two.
	f.moveTo(t, f.submit(t, alice), 1, request.StatusAwaitingTriage, now.Add(-90*time.Minute))
	f.moveTo(t, f.submit(t, alice), 1, request.StatusInReview, now.Add(-90*time.Minute))
	f.moveTo(t, f.submit(t, oscar), 1, request.StatusInReview, now.Add(-3*time.Hour))
	f.submit(t, oscar)
	reg, err := f.svc.ObserveRequests(f.store)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()

	for st, want := range map[request.Status]int64{
		request.StatusSubmitted: 1, request.StatusAwaitingTriage: 1, request.StatusInReview: 2, request.StatusPublished: 0,
	} {
		if got := metrics.Int64(telemetry.RequestCount, telemetry.AttrRequestStatus.String(string(st))); got != want {
			t.Errorf("%s: %d requests, want %d", st, got, want)
		}
	}
	for st, want := range map[request.Status]int64{
		request.StatusAwaitingTriage: 1, request.StatusInReview: 1, request.StatusAwaitingPartner: 0,
	} {
		if got := metrics.Int64(telemetry.RequestOverdueCount, telemetry.AttrRequestStatus.String(string(st))); got != want {
			t.Errorf("%s: %d overdue, want %d", st, got, want)
		}
	}
}

// The delay runs from the request's last decision to its published event, recorded once
// however often the worker retries the record.
func TestPublicationDelayIsRecordedOncePerPublication(t *testing.T) {
	f, metrics := meteredFixture(t, t0)
	r := f.submit(t, alice)
	decided := t0.Add(10 * time.Minute)
	for i := range r.Operations {
		r.Operations[i].Decision = &request.Decision{Decision: request.DecisionAccepted, DecidedAt: decided.Add(-time.Duration(i) * time.Minute)}
	}
	r = f.moveTo(t, r, 1, request.StatusPublishing, decided)
	r.Status = request.StatusPublished
	published := request.Event{RequestID: r.ID, Seq: 2, Type: request.EventPublished, At: decided.Add(42 * time.Second),
		Actor: request.SystemActor, Data: json.RawMessage(`{"version":461}`), Request: r}
	for range 2 {
		if err := f.svc.RecordEvent(t.Context(), published); err != nil {
			t.Fatal(err)
		}
	}

	h := metrics.Histogram(telemetry.RequestPublicationDuration, telemetry.AttrPublicationMode.String(telemetry.PublicationImmediate))
	if h.Count != 1 || h.Sum != 42 {
		t.Errorf("%d publications, %gs in all; want one of 42s", h.Count, h.Sum)
	}
}
