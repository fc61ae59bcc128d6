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
		Topic: "Request r1 submitted", Preview: "Please triage", Link: "https://rome.example/requests/r1", LeaseSeconds: 120}
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

// slowGraph takes 50 s of the clock to send each notification, and notes until when each
// send may run.
type slowGraph struct {
	mu        sync.Mutex
	now       time.Time
	sent      []string
	deadlines []time.Time
}

func (g *slowGraph) Now() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now
}

func (g *slowGraph) Send(ctx context.Context, n teams.FeedNotification) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	deadline, _ := ctx.Deadline()
	g.sent, g.deadlines = append(g.sent, n.UserID), append(g.deadlines, deadline)
	g.now = g.now.Add(50 * time.Second)
	return nil
}

// With Graph answering slowly, a batch keeps within its lease, so that no other worker
// sends what this one holds: what is left waits for a later claim, and each send may run
// only until the lease nearly ends.
func TestBatchKeepsWithinItsLease(t *testing.T) {
	o := &outbox{reports: map[string]notifclient.TeamsResult{}}
	for _, id := range []string{"d1", "d2", "d3", "d4", "d5"} {
		o.pending = append(o.pending, delivery(id, "aad-"+id)) // leased for 120 s
	}
	start := time.Now()
	g := &slowGraph{now: start}
	loop := teamsfeed.New(o, g, teamsfeed.Config{Owner: "worker-1", Batch: 10, Poll: time.Hour, Now: g.Now},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := loop.Tick(t.Context()); err != nil || n != 5 {
		t.Fatalf("tick: %d, %v", n, err)
	}
	// Sends start at 0, 50 and 100 s; at 150 s, the lease (less 5 s for the reports) is over.
	if len(g.sent) != 3 || len(o.reports) != 3 {
		t.Fatalf("sent to %v and reported %v, want the first 3 only", g.sent, o.reports)
	}
	for i, d := range g.deadlines {
		if !d.Equal(start.Add(115 * time.Second)) {
			t.Errorf("send %d may run until %v, want the lease's end less 5 s", i+1, d.Sub(start))
		}
	}
}
