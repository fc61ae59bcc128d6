package httpx

import (
	"errors"
	"strings"
	"testing"
)

func TestIdempotencyKey(t *testing.T) {
	none, err := NewIdempotencyKey("sub:ada", "", "POST /v1/x", map[string]any{"a": 1})
	if err != nil || none.Given() {
		t.Fatalf("no key: %+v %v", none, err)
	}
	k, err := NewIdempotencyKey("sub:ada", "key-1", "POST /v1/x", map[string]any{"a": 1, "b": "c"})
	if err != nil || !k.Given() || k.Scope != "sub:ada" || k.Key != "key-1" || len(k.Hash) != 64 {
		t.Fatalf("key: %+v %v", k, err)
	}
	// The same call decoded the same way is the same call; another body or target is not.
	same, _ := NewIdempotencyKey("sub:ada", "key-1", "POST /v1/x", map[string]any{"b": "c", "a": 1})
	other, _ := NewIdempotencyKey("sub:ada", "key-1", "POST /v1/x", map[string]any{"a": 2, "b": "c"})
	elsewhere, _ := NewIdempotencyKey("sub:ada", "key-1", "POST /v1/y", map[string]any{"a": 1, "b": "c"})
	if err := same.CheckFirstUse(k.Hash); err != nil {
		t.Errorf("the same call refused: %v", err)
	}
	for _, retry := range []IdempotencyKey{other, elsewhere} {
		var p *Problem
		if err := retry.CheckFirstUse(k.Hash); !errors.As(err, &p) || p.Code != "idempotency_key_reused" {
			t.Errorf("another call with the key: %v", err)
		}
	}
	for _, bad := range []string{strings.Repeat("k", 256), "clé", "a\nb"} {
		var p *Problem
		if _, err := NewIdempotencyKey("sub:ada", bad, "POST /v1/x", nil); !errors.As(err, &p) || p.Code != "invalid_idempotency_key" {
			t.Errorf("key %q: %v", bad, err)
		}
	}
}
