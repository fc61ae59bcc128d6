package teamsfeed_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/worker/internal/teamsfeed"
)

// outbox hands out its deliveries in claims of at most max and records the reports.
type outbox struct {
	mu       sync.Mutex
	pending  []notifclient.TeamsDelivery
	claims   int
	reports  map[string]notifclient.TeamsResult
	lostWith string // the delivery whose lease has expired
}

func (o *outbox) ClaimTeamsDeliveries(_ context.Context, owner string, max int) ([]notifclient.TeamsDelivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.claims++
	if owner != "worker-1" {
		return nil, errors.New("unknown owner " + owner)
	}
	n := min(max, len(o.pending))
	batch := o.pending[:n]
	o.pending = o.pending[n:]
	return batch, nil
}

func (o *outbox) ReportTeamsDelivery(_ context.Context, id string, r notifclient.TeamsResult) (notifclient.TeamsOutcome, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id == o.lostWith {
		return notifclient.TeamsOutcome{Status: "pending"}, nil
	}
	o.reports[id] = r
	return notifclient.TeamsOutcome{Status: "sent", Recorded: true}, nil
}

// sender answers each recipient as scripted.
type sender struct {
	mu   sync.Mutex
	sent []teams.FeedNotification
	errs map[string]error
}

func (s *sender) Send(_ context.Context, n teams.FeedNotification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, n)
	return s.errs[n.UserID]
}

func delivery(id, recipient string) notifclient.TeamsDelivery {
	return notifclient.TeamsDelivery{ID: id, Kind: "notification", Recipient: recipient, Attempt: 1,
		Topic: "Request r1 submitted", Preview: "Please triage", Link: "https://rome.example/requests/r1"}
}

func TestEachOutcomeIsReported(t *testing.T) {
	o := &outbox{reports: map[string]notifclient.TeamsResult{}, lostWith: "d4", pending: []notifclient.TeamsDelivery{
		delivery("d1", "aad-ok"), delivery("d2", "aad-gone"), delivery("d3", "aad-throttled"), delivery("d4", "aad-ok"),
	}}
	s := &sender{errs: map[string]error{
		"aad-gone": temporal.NewNonRetryableApplicationError("teams: Graph answered 404", teams.ErrTypeRejected, nil),
		"aad-throttled": temporal.NewApplicationErrorWithOptions("teams: Graph answered 429", teams.ErrTypeUnavailable,
			temporal.ApplicationErrorOptions{NextRetryDelay: 6500 * time.Millisecond}),
	}}
	loop := teamsfeed.New(o, s, teamsfeed.Config{Owner: "worker-1", Batch: 10, Poll: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	n, err := loop.Tick(t.Context())
	if err != nil || n != 4 {
		t.Fatalf("tick: %d, %v", n, err)
	}
	if len(s.sent) != 4 || s.sent[0] != (teams.FeedNotification{UserID: "aad-ok", Topic: "Request r1 submitted",
		Preview: "Please triage", Link: "https://rome.example/requests/r1"}) {
		t.Fatalf("sent %+v", s.sent)
	}
	want := map[string]notifclient.TeamsResult{
		"d1": {Owner: "worker-1"},
		"d2": {Owner: "worker-1", Error: "teams: Graph answered 404", Permanent: true},
		"d3": {Owner: "worker-1", Error: "teams: Graph answered 429", RetryAfterSeconds: 7},
	}
	if len(o.reports) != len(want) {
		t.Fatalf("reports %+v", o.reports)
	}
	for id, r := range want {
		if o.reports[id] != r {
			t.Errorf("%s reported %+v, want %+v", id, o.reports[id], r)
		}
	}
}

func TestRunDrainsFullBatchesAndStops(t *testing.T) {
	o := &outbox{reports: map[string]notifclient.TeamsResult{}}
	for _, id := range []string{"d1", "d2", "d3", "d4", "d5"} {
		o.pending = append(o.pending, delivery(id, "aad-"+id))
	}
	s := &sender{}
	loop := teamsfeed.New(o, s, teamsfeed.Config{Owner: "worker-1", Batch: 2, Poll: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { loop.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.mu.Lock()
		reported := len(o.reports)
		o.mu.Unlock()
		if reported == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 5 delivered without waiting for the poll interval", reported)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.claims != 3 { // 2 + 2 + 1, then the poll pause
		t.Errorf("%d claims, want 3", o.claims)
	}
}
