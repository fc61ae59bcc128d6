package delivery

import (
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// RetryPolicy decides what a failed delivery attempt makes of its outbox row,
// on every channel: a retry after an exponential backoff, or the dead-letter
// list.
type RetryPolicy struct {
	MaxAttempts int           // the last attempt; a failure then is a dead letter
	Base        time.Duration // delay after the first failure, doubled after each next one
	Max         time.Duration // cap of the doubling
}

// Failed is the outcome of failed attempt number attempt (1 for the first):
// dead when the refusal is permanent or the attempt was the last; else due
// again after Base·2^(attempt-1), capped at Max, and never before
// notBefore (the receiver's Retry-After, which may exceed Max: retrying
// sooner would only be throttled again).
func (p RetryPolicy) Failed(attempt int, cause string, permanent bool, notBefore time.Duration) store.Failure {
	delay := p.Base
	for i := 1; i < attempt && delay < p.Max; i++ {
		delay *= 2
	}
	return store.Failure{
		Cause: cause,
		Delay: max(min(delay, p.Max), notBefore),
		Dead:  permanent || attempt >= p.MaxAttempts,
	}
}
