package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/api"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
)

// The public reads, native and France Travail, share one per-client budget; the probes
// are never throttled. The referential is empty here (reads answer 503): the limit comes
// before the handler either way.
func TestPublicReadsAreRateLimited(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	h := api.Router(api.Deps{
		Service:        app.New(nil, slog.New(slog.DiscardHandler), app.Config{}),
		Authenticate:   func(c *gin.Context) { c.Next() },
		RequireService: func(c *gin.Context) { c.Next() },
		RateLimit:      httpx.RateLimitConfig{RPS: 1, Burst: 2, Now: func() time.Time { return now }},
		SignedIn:       func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer valid" },
	})
	get := func(path, remote string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = remote
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, path := range []string{"/v1/fiches/M1805", "/rome-metiers/v1/metiers/metier/M1805"} {
		if rec := get(path, "203.0.113.5:1000"); rec.Code == http.StatusTooManyRequests {
			t.Fatalf("%s within the burst: 429", path)
		}
	}
	for _, path := range []string{"/v1/version", "/rome-fiches-metiers/v1/fiches-rome/fiche-metier/M1805"} {
		rec := get(path, "203.0.113.5:1001")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("%s beyond the burst: %d, Retry-After %q", path, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	for range 10 {
		if rec := get("/healthz", "203.0.113.5:1002"); rec.Code != http.StatusOK {
			t.Fatalf("/healthz throttled: %d", rec.Code)
		}
	}
	if rec := get("/v1/version", "198.51.100.9:1000"); rec.Code == http.StatusTooManyRequests {
		t.Fatal("another client throttled")
	}
	// The platform's own callers (the console for all its people, the worker) carry a
	// valid token and are not throttled by their address; an invalid token counts as none.
	for range 10 {
		if rec := get("/v1/version", "203.0.113.5:1003", "Authorization", "Bearer valid"); rec.Code == http.StatusTooManyRequests {
			t.Fatal("a signed-in caller throttled")
		}
	}
	if rec := get("/v1/version", "203.0.113.5:1004", "Authorization", "Bearer forged"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("an invalid token escaped the limit: %d", rec.Code)
	}
}
