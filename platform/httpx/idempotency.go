package httpx

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// HeaderIdempotencyKey makes a creating or changing call safe to retry: the same key and
// body answer what the first call did; the same key with another body is refused.
const HeaderIdempotencyKey = "Idempotency-Key"

const maxIdempotencyKey = 255

// IdempotencyKey is the Idempotency-Key of a call: whose keys it belongs to (Scope), the
// key, and what it was first used for (Hash of the call and its decoded body). The zero
// IdempotencyKey is a call without one.
type IdempotencyKey struct {
	Scope, Key, Hash string
}

// NewIdempotencyKey reads an Idempotency-Key (empty: a call without one) of a call
// ("POST /v1/requests") with its decoded body, so that a retry that differs only in JSON
// spacing is the same call. A malformed key is a 422 naming the header.
func NewIdempotencyKey(scope, key, call string, body any) (IdempotencyKey, error) {
	if key == "" {
		return IdempotencyKey{}, nil
	}
	if len(key) > maxIdempotencyKey || !printableASCII(key) {
		return IdempotencyKey{}, Unprocessable("invalid_idempotency_key", "The Idempotency-Key is unusable.",
			FieldError{Field: HeaderIdempotencyKey, Message: "must be 1 to 255 printable ASCII characters"})
	}
	canonical, err := json.Marshal(body)
	if err != nil {
		return IdempotencyKey{}, err
	}
	sum := sha256.Sum256(append([]byte(call+"\n"), canonical...))
	return IdempotencyKey{Scope: scope, Key: key, Hash: hex.EncodeToString(sum[:])}, nil
}

// Given tells whether the call carried a key.
func (k IdempotencyKey) Given() bool { return k.Key != "" }

// CheckFirstUse refuses the key when the call it was first used for (firstHash) is
// another one: a 422 naming the header.
func (k IdempotencyKey) CheckFirstUse(firstHash string) error {
	if firstHash == k.Hash {
		return nil
	}
	return Unprocessable("idempotency_key_reused", "This Idempotency-Key was already used with another request body or target.",
		FieldError{Field: HeaderIdempotencyKey, Message: "already used for a different call"})
}

func printableASCII(s string) bool {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return false
		}
	}
	return true
}
