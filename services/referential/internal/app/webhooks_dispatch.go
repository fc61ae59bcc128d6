package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
)

// The dispatcher. Each endpoint is a queue delivered in event order, one delivery in
// flight: a replica leases the endpoint (store.ClaimWebhookEndpoint), sends the head of
// its queue, records the attempt, and goes on with the next while deliveries succeed. A
// failure holds the queue back (later events wait behind it, so a consumer sees them in
// order) until the next attempt, after 5 s, 10 s, 20 s… up to an hour. An endpoint that
// keeps failing for the schedule's span (two days) has its head dead-lettered, then each
// delivery after it at its first failure, until an attempt succeeds: dead letters are
// replayed by an admin. A 410 Gone disables the endpoint.

const (
	dueBatch     = 256 // endpoints looked at per pass
	perClaim     = 100 // deliveries sent under one lease before letting others' turn come
	maxErrorText = 300 // characters of an attempt's error kept in the log
)

// Run delivers until ctx ends: a pass whenever the previous one sent something, every
// poll otherwise.
func (w *Webhooks) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		n, err := w.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			w.cfg.Log.Error("webhook deliveries", "error", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue makes one pass: every endpoint whose queue is due has it delivered, up to its
// first failure. It returns how many attempts were made.
func (w *Webhooks) DeliverDue(ctx context.Context) (int, error) {
	ids, err := w.store.DueWebhookEndpoints(ctx, w.cfg.Now(), dueBatch)
	if err != nil {
		return 0, err
	}
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, w.cfg.Concurrency)
		attempts atomic.Int64
		errMu    sync.Mutex
		errs     []error
	)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			n, err := w.drain(ctx, id)
			attempts.Add(int64(n))
			if err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	return int(attempts.Load()), errors.Join(errs...)
}

// drain delivers an endpoint's queue under a lease, renewed at each attempt, until the
// queue is empty, an attempt fails, or perClaim deliveries went out.
func (w *Webhooks) drain(ctx context.Context, id string) (int, error) {
	defer func() {
		// Released even when ctx ended: a lease left behind only delays the next replica.
		if err := w.store.ReleaseWebhookEndpoint(context.WithoutCancel(ctx), id, w.owner); err != nil {
			w.cfg.Log.Warn("release webhook endpoint", "endpoint", id, "error", err)
		}
	}()
	for n := 0; n < perClaim; n++ {
		now := w.cfg.Now()
		// The lease outlives the attempt: the consumer's timeout, with room to record it.
		claimed, err := w.store.ClaimWebhookEndpoint(ctx, id, w.owner, now, now.Add(w.cfg.Timeout+30*time.Second))
		if err != nil || !claimed {
			return n, err
		}
		ep, ok, err := w.store.WebhookEndpoint(ctx, id)
		if err != nil || !ok {
			return n, err
		}
		d, ok, err := w.store.NextWebhookDelivery(ctx, id)
		if err != nil || !ok {
			return n, err
		}
		r := w.attempt(ctx, ep, d)
		held, err := w.store.RecordWebhookAttempt(ctx, w.owner, r)
		if err != nil {
			return n + 1, err
		}
		w.attempts.Add(ctx, 1, metric.WithAttributes(telemetry.AttrOutcome.String(r.Outcome)))
		if !held || r.Outcome == store.OutcomeRetry || r.Outcome == store.OutcomeGone {
			return n + 1, nil
		}
	}
	return perClaim, nil
}

// attempt sends a delivery once and decides what follows.
func (w *Webhooks) attempt(ctx context.Context, ep store.WebhookEndpoint, d store.DeliveryView) store.AttemptResult {
	at := w.cfg.Now()
	start := time.Now()
	code, err := w.send(ctx, ep, d, at)
	r := store.AttemptResult{EndpointID: ep.ID, Delivery: d, Next: at,
		Attempt: store.WebhookAttempt{At: at, Status: code, DurationMS: time.Since(start).Milliseconds()}}
	switch {
	case err != nil:
		r.Attempt.Error = truncate(err.Error(), maxErrorText)
	case code >= 200 && code < 300:
		r.Outcome = store.OutcomeDelivered
		return r
	case code == http.StatusGone:
		r.Outcome = store.OutcomeGone
		r.Attempt.Error = "410 Gone: the endpoint is disabled until an admin enables it again"
		w.cfg.Log.Warn("webhook endpoint gone, disabled", "endpoint", ep.ID)
		return r
	default:
		r.Attempt.Error = fmt.Sprintf("answered %d %s", code, http.StatusText(code))
	}
	failingSince := at
	if ep.FailingSince != nil {
		failingSince = *ep.FailingSince
	}
	if at.Sub(failingSince) >= w.cfg.Schedule.Span {
		r.Outcome = store.OutcomeDead
		w.cfg.Log.Warn("webhook delivery dead-lettered", "endpoint", ep.ID, "delivery", d.ID, "failingSince", failingSince)
		return r
	}
	r.Outcome = store.OutcomeRetry
	r.Next = at.Add(w.cfg.Schedule.Delay(ep.Failures+1, w.cfg.Jitter()))
	return r
}

// send POSTs the delivery's payload, signed for this attempt, and returns the status.
func (w *Webhooks) send(ctx context.Context, ep store.WebhookEndpoint, d store.DeliveryView, at time.Time) (int, error) {
	body := []byte(d.Payload)
	headers, err := webhook.Headers(ep.Secrets(at), d.ID, at, body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "plateforme-rome-webhooks/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	return res.StatusCode, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
