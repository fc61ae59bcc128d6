package app

import (
	"context"
	"time"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// IdempotencyKey is the Idempotency-Key of an admin's creating call, with the rules of the
// intake's POST /v1/requests (httpx.IdempotencyKey): the same key and body answer what the
// first call created, the same key with another body is a 422 idempotency_key_reused. The
// zero IdempotencyKey is a call without one.
type IdempotencyKey struct{ httpx.IdempotencyKey }

// NewIdempotencyKey reads an Idempotency-Key (empty: a call without one) of a call
// ("POST /v1/api-clients") with its decoded body. Keys belong to the caller (subject).
func NewIdempotencyKey(subject, key, call string, body any) (IdempotencyKey, error) {
	k, err := httpx.NewIdempotencyKey("sub:"+subject, key, call, body)
	return IdempotencyKey{k}, err
}

// record is what a call that created resourceID stores for its retries (nil without a key).
func (k IdempotencyKey) record(resourceID string, at time.Time) *store.IdempotencyRecord {
	if !k.Given() {
		return nil
	}
	return &store.IdempotencyRecord{Scope: k.Scope, Key: k.Key, BodyHash: k.Hash, ResourceID: resourceID, CreatedAt: at}
}

// firstUse finds what the first call with this key created: found is false when the key
// is new (or absent); a key first used for another call is refused.
func firstUse(ctx context.Context, s *store.Store, k IdempotencyKey) (resourceID string, found bool, err error) {
	if !k.Given() {
		return "", false, nil
	}
	rec, found, err := s.IdempotencyRecord(ctx, k.Scope, k.Key)
	if err != nil || !found {
		return "", false, err
	}
	if err := k.CheckFirstUse(rec.BodyHash); err != nil {
		return "", false, err
	}
	return rec.ResourceID, true, nil
}
