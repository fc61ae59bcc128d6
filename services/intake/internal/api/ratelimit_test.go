package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/httpx"
)

// The unauthenticated routes (the Graph webhook, the dev issuer, the ideas) share one
// per-client budget; the probes and the authenticated API are not throttled by it.
func TestUnauthenticatedRoutesAreRateLimited(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, func(d *Deps) {
		d.RateLimit = httpx.RateLimitConfig{RPS: 0.5, Burst: 2, Now: func() time.Time { return now }}
	})
	do := func(method, path, body, remote string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = remote
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec
	}
	if rec := do("POST", "/webhooks/graph?validationToken=abc", "", "203.0.113.5:1000"); rec.Code != http.StatusOK {
		t.Fatalf("webhook within the burst: %d %s", rec.Code, rec.Body)
	}
	if rec := do("GET", "/dev/jwks.json", "", "203.0.113.5:1001"); rec.Code != http.StatusOK {
		t.Fatalf("jwks within the burst: %d %s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/dev/token", "/webhooks/graph", "/v1/ideas"} {
		rec := do("POST", path, `{"sub":"alice","role":"partner","org":"opco-2i"}`, "203.0.113.5:1002")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" ||
			!strings.Contains(rec.Body.String(), `"code":"rate_limited"`) {
			t.Fatalf("%s beyond the burst: %d, Retry-After %q, %s", path, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	for range 10 {
		if rec := do("GET", "/healthz", "", "203.0.113.5:1003"); rec.Code != http.StatusOK {
			t.Fatalf("/healthz throttled: %d", rec.Code)
		}
	}
	if rec := do("GET", "/v1/me", "", "203.0.113.5:1004"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("the authenticated API must not share the budget: %d", rec.Code)
	}
	if rec := do("POST", "/dev/token", `{"sub":"alice","role":"partner","org":"opco-2i"}`, "198.51.100.9:1000"); rec.Code != http.StatusOK {
		t.Fatalf("another client: %d %s", rec.Code, rec.Body)
	}
}

// 100 access requests from one client within a minute: the configured burst goes through,
// the rest is refused (429) until the budget refills; another client is not held back.
func TestAccessRequestsFromOneClientAreRateLimited(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	const burst = 20
	e := newEnv(t, func(d *Deps) {
		d.RateLimit = httpx.RateLimitConfig{RPS: 5, Burst: burst, Now: func() time.Time { return now }}
	})
	send := func(n int, remote string) int {
		body := strings.Replace(application, "Claire.Dubois@OPCO-Sante.fr", fmt.Sprintf("expert%d@opco.example", n), 1)
		req := httptest.NewRequest("POST", "/v1/access-requests", strings.NewReader(body))
		req.RemoteAddr, req.Header["Content-Type"] = remote, []string{"application/json"}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec.Code
	}
	accepted := 0
	for n := range 100 {
		switch code := send(n, "203.0.113.7:4000"); code {
		case http.StatusAccepted:
			accepted++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("request %d: %d", n, code)
		}
	}
	if accepted != burst || len(e.access.started) != burst {
		t.Fatalf("%d accepted, %d started, want the burst of %d", accepted, len(e.access.started), burst)
	}
	if code := send(100, "198.51.100.7:4000"); code != http.StatusAccepted {
		t.Fatalf("another client: %d", code)
	}
}
