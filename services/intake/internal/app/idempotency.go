package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/google/uuid"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

// HeaderIdempotencyKey makes a creating or changing call safe to retry.
const HeaderIdempotencyKey = httpx.HeaderIdempotencyKey

// requestIDSpace derives request ids from idempotency keys (UUIDv5).
var requestIDSpace = uuid.MustParse("b5b4c229-fd74-46d2-808c-264f1402bd42")

// Key is the Idempotency-Key of a call. The zero Key is a call without one.
type Key struct{ httpx.IdempotencyKey }

// NewKey reads an Idempotency-Key (empty: a call without one). Keys belong to the caller's
// organisation (partners) or to the caller (other roles).
func NewKey(p auth.Principal, key, call string, body any) (Key, error) {
	scope := "sub:" + p.Subject
	if p.Role == auth.RolePartner {
		scope = "org:" + p.Org
	}
	k, err := httpx.NewIdempotencyKey(scope, key, call, body)
	return Key{k}, err
}

// requestID is the id of the request a submission creates: derived from the key when
// there is one, so that every retry targets the same request and workflow even when the
// first attempt's outcome was lost; otherwise a UUIDv7 (time-ordered).
func (k Key) requestID() (string, error) {
	if !k.Given() {
		id, err := uuid.NewV7()
		return id.String(), err
	}
	return uuid.NewSHA1(requestIDSpace, []byte(k.Scope+"\n"+k.Key)).String(), nil
}

// updateID deduplicates retried updates on Temporal's side: the same caller's key for
// the same call gives the same update id; no key, a fresh one.
func (k Key) updateID() string {
	if !k.Given() {
		return ""
	}
	sum := sha256.Sum256([]byte(k.Scope + "\n" + k.Key + "\n" + k.Hash))
	return "idem-" + hex.EncodeToString(sum[:])
}

// record is what a successful call stores for its retries.
func (k Key) record(requestID string, status int, response []byte) *store.Idempotency {
	if !k.Given() {
		return nil
	}
	return &store.Idempotency{Scope: k.Scope, Key: k.Key, BodyHash: k.Hash, RequestID: requestID, Status: status, Response: response}
}

// firstAnswer is the record of the call's key: nil when the key is new (or absent), a 422
// when it was used for another call.
func (s *Service) firstAnswer(ctx context.Context, key Key) (*store.Idempotency, error) {
	if !key.Given() {
		return nil, nil
	}
	rec, found, err := s.requests.Idempotency(ctx, key.Scope, key.Key)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, nil
	}
	if err := key.CheckFirstUse(rec.BodyHash); err != nil {
		return nil, err
	}
	return &rec, nil
}

// replay is the answer recorded for a call's first attempt.
func replay(rec store.Idempotency) Answer {
	return Answer{Status: rec.Status, Body: rec.Response, Replayed: true, RequestID: rec.RequestID}
}
