package app_test

import (
	"context"
	"testing"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook/webhooktest"
)

// BenchmarkWebhookFanOut100 measures, per publication, the time from store.Publish (the
// version, its outbox events and one delivery per endpoint, in one transaction) to the
// 100th endpoint having accepted and verified its signed version.published: 100
// consumers, each its own HTTP server on loopback. A serving replica adds up to one poll
// interval (WEBHOOK_POLL_INTERVAL, 1 s) before its dispatcher's pass starts.
func BenchmarkWebhookFanOut100(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) { benchFanOut(b, d, 100) })
	}
}

func benchFanOut(b *testing.B, d database.Dialect, endpoints int) {
	e := newHooksEnv(b, dbtest.Open(b, d))
	rs := make([]*webhooktest.Receiver, endpoints)
	for i := range rs {
		rs[i] = webhooktest.New(b)
		e.register(rs[i], []string{webhook.VersionPublished})
	}
	ctx := context.Background()
	for b.Loop() {
		e.publish("M1805")
		for delivered := 0; delivered < endpoints; {
			if _, err := e.w.DeliverDue(ctx); err != nil {
				b.Fatal(err)
			}
			delivered = 0
			for _, r := range rs {
				if len(r.Delivered()) == e.n {
					delivered++
				}
			}
		}
	}
	for _, r := range rs {
		if bad := r.Rejected(); len(bad) > 0 {
			b.Fatalf("signatures that did not verify: %q", bad)
		}
	}
}
