package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

// HeaderIdempotencyKey makes a creating or changing call safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

const maxIdempotencyKey = 255

// requestIDSpace derives request ids from idempotency keys (UUIDv5).
var requestIDSpace = uuid.MustParse("b5b4c229-fd74-46d2-808c-264f1402bd42")

// Key is the Idempotency-Key of a call, with whose keys it belongs to and what it was used
// for. The zero Key is a call without one.
type Key struct {
	scope, key, hash string
}

// NewKey reads an Idempotency-Key (empty: a call without one). Keys belong to the caller's
// organisation (partners) or to the caller (other roles); the hash identifies the call:
// call ("POST /v1/requests") and the decoded body, so a retry that differs only in JSON
// spacing is the same call.
func NewKey(p auth.Principal, key, call string, body any) (Key, error) {
	if key == "" {
		return Key{}, nil
	}
	if len(key) > maxIdempotencyKey || !printableASCII(key) {
		return Key{}, httpx.Unprocessable("invalid_idempotency_key", "The Idempotency-Key is unusable.",
			httpx.FieldError{Field: HeaderIdempotencyKey, Message: "must be 1 to 255 printable ASCII characters"})
	}
	canonical, err := json.Marshal(body)
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256(append([]byte(call+"\n"), canonical...))
	scope := "sub:" + p.Subject
	if p.Role == auth.RolePartner {
		scope = "org:" + p.Org
	}
	return Key{scope: scope, key: key, hash: hex.EncodeToString(sum[:])}, nil
}

func printableASCII(s string) bool {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return false
		}
	}
	return true
}

// requestID is the id of the request a submission creates: derived from the key when
// there is one, so that every retry targets the same request and workflow even when the
// first attempt's outcome was lost; otherwise a UUIDv7 (time-ordered).
func (k Key) requestID() (string, error) {
	if k.key == "" {
		id, err := uuid.NewV7()
		return id.String(), err
	}
	return uuid.NewSHA1(requestIDSpace, []byte(k.scope+"\n"+k.key)).String(), nil
}

// updateID deduplicates retried updates on Temporal's side: the same caller's key for
// the same call gives the same update id; no key, a fresh one.
func (k Key) updateID() string {
	if k.key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(k.scope + "\n" + k.key + "\n" + k.hash))
	return "idem-" + hex.EncodeToString(sum[:])
}

// record is what a successful call stores for its retries.
func (k Key) record(requestID string, status int, response []byte) *store.Idempotency {
	if k.key == "" {
		return nil
	}
	return &store.Idempotency{Scope: k.scope, Key: k.key, BodyHash: k.hash, RequestID: requestID, Status: status, Response: response}
}

// firstAnswer is the record of the call's key: nil when the key is new (or absent), a 422
// when it was used for another call.
func (s *Service) firstAnswer(ctx context.Context, key Key) (*store.Idempotency, error) {
	if key.key == "" {
		return nil, nil
	}
	rec, found, err := s.requests.Idempotency(ctx, key.scope, key.key)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, nil
	case rec.BodyHash != key.hash:
		return nil, httpx.Unprocessable("idempotency_key_reused", "This Idempotency-Key was already used with another request body or target.",
			httpx.FieldError{Field: HeaderIdempotencyKey, Message: "already used for a different call"})
	}
	return &rec, nil
}

// replay is the answer recorded for a call's first attempt.
func replay(rec store.Idempotency) Answer {
	return Answer{Status: rec.Status, Body: rec.Response, Replayed: true, RequestID: rec.RequestID}
}
