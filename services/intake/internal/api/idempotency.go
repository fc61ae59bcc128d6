package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/gin-gonic/gin"
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

// idempotency is the Idempotency-Key of a call, with whose keys it belongs to and what it
// was used for.
type idempotency struct {
	scope, key, hash string
}

// idempotencyOf reads the Idempotency-Key header (absent: ok with an empty key). Keys
// belong to the caller's organisation (partners) or to the caller (other roles); hash
// identifies the call: method, path and the decoded body, so a retry that differs only in
// JSON spacing is the same call.
func idempotencyOf(c *gin.Context, p auth.Principal, body any) (idempotency, error) {
	key := c.GetHeader(HeaderIdempotencyKey)
	if key == "" {
		return idempotency{}, nil
	}
	if len(key) > maxIdempotencyKey || !printableASCII(key) {
		return idempotency{}, httpx.Unprocessable("invalid_idempotency_key", "The Idempotency-Key is unusable.",
			httpx.FieldError{Field: HeaderIdempotencyKey, Message: "must be 1 to 255 printable ASCII characters"})
	}
	canonical, err := json.Marshal(body)
	if err != nil {
		return idempotency{}, err
	}
	sum := sha256.Sum256(append([]byte(c.Request.Method+" "+c.Request.URL.Path+"\n"), canonical...))
	scope := "sub:" + p.Subject
	if p.Role == auth.RolePartner {
		scope = "org:" + p.Org
	}
	return idempotency{scope: scope, key: key, hash: hex.EncodeToString(sum[:])}, nil
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
func (k idempotency) requestID() (string, error) {
	if k.key == "" {
		id, err := uuid.NewV7()
		return id.String(), err
	}
	return uuid.NewSHA1(requestIDSpace, []byte(k.scope+"\n"+k.key)).String(), nil
}

// updateID deduplicates retried updates on Temporal's side: the same caller's key for
// the same call gives the same update id; no key, a fresh one.
func (k idempotency) updateID() string {
	if k.key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(k.scope + "\n" + k.key + "\n" + k.hash))
	return "idem-" + hex.EncodeToString(sum[:])
}

// record is what a successful call stores for its retries.
func (k idempotency) record(requestID string, status int, response []byte) *store.Idempotency {
	if k.key == "" {
		return nil
	}
	return &store.Idempotency{Scope: k.scope, Key: k.key, BodyHash: k.hash, RequestID: requestID, Status: status, Response: response}
}

// firstAnswer is the record of the call's key: nil when the key is new (or absent), a 422
// when it was used for another call.
func (h *handlers) firstAnswer(ctx context.Context, key idempotency) (*store.Idempotency, error) {
	if key.key == "" {
		return nil, nil
	}
	rec, found, err := h.requests.Idempotency(ctx, key.scope, key.key)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, nil
	case rec.BodyHash != key.hash:
		return nil, reused()
	}
	return &rec, nil
}

// reused is the answer to a key already used for another call.
func reused() error {
	return httpx.Unprocessable("idempotency_key_reused", "This Idempotency-Key was already used with another request body or target.",
		httpx.FieldError{Field: HeaderIdempotencyKey, Message: "already used for a different call"})
}

// replay answers with a stored first answer.
func replay(c *gin.Context, rec store.Idempotency) {
	c.Header("Idempotent-Replayed", "true")
	c.Data(rec.Status, jsonContentType, rec.Response)
}

const jsonContentType = "application/json; charset=utf-8"
