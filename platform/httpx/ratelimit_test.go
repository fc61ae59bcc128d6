package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func limitedEngine(mw gin.HandlerFunc) *gin.Engine {
	r := NewEngine("test")
	r.GET("/x", mw, func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	return r
}

func hit(h http.Handler, remote string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRateLimitBurstThenRefusedThenRefilled(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	h := limitedEngine(RateLimit(RateLimitConfig{RPS: 0.5, Burst: 3, Now: clock.Now}))
	for i := range 3 {
		if rec := hit(h, "203.0.113.7:4000"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
		}
	}
	rec := hit(h, "203.0.113.7:4001")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("request beyond the burst: %d, want 429", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != ContentTypeProblem {
		t.Fatalf("Content-Type = %q", ct)
	}
	// One token every 2 s: the client is told to come back in 2 s.
	if ra := rec.Header().Get("Retry-After"); ra != "2" {
		t.Fatalf("Retry-After = %q, want 2", ra)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["code"] != "rate_limited" || body["status"] != float64(429) {
		t.Fatalf("body = %s (%v)", rec.Body, err)
	}

	// Half a second later, 1.5 s remain: rounded up.
	clock.Add(500 * time.Millisecond)
	if rec := hit(h, "203.0.113.7:4002"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("still empty: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	clock.Add(1500 * time.Millisecond)
	if rec := hit(h, "203.0.113.7:4003"); rec.Code != http.StatusOK {
		t.Fatalf("after the refill: %d", rec.Code)
	}
	if rec := hit(h, "203.0.113.7:4004"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("one token refilled, two spent: %d", rec.Code)
	}
}

func TestRateLimitClientsAreIndependent(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(0, 0)}
	h := limitedEngine(RateLimit(RateLimitConfig{RPS: 1, Burst: 1, Now: clock.Now}))
	if hit(h, "198.51.100.1:1").Code != 200 || hit(h, "198.51.100.1:2").Code != 429 {
		t.Fatal("first client: want 200 then 429")
	}
	if rec := hit(h, "198.51.100.2:1"); rec.Code != 200 {
		t.Fatalf("second client throttled by the first: %d", rec.Code)
	}
	// An IPv6 client is its /64: another address of the same /64 shares the bucket.
	if hit(h, "[2001:db8:1:2::1]:1").Code != 200 || hit(h, "[2001:db8:1:2::ffff]:1").Code != 429 {
		t.Fatal("addresses of one /64 must share a bucket")
	}
	if rec := hit(h, "[2001:db8:1:3::1]:1"); rec.Code != 200 {
		t.Fatalf("another /64: %d", rec.Code)
	}
}

func TestRateLimitIgnoresForwardedForUnlessTheProxyIsTrusted(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(0, 0)}
	open := limitedEngine(RateLimit(RateLimitConfig{RPS: 1, Burst: 1, Now: clock.Now}))
	if hit(open, "192.0.2.1:1", "X-Forwarded-For", "10.0.0.1").Code != 200 ||
		hit(open, "192.0.2.1:1", "X-Forwarded-For", "10.0.0.2").Code != 429 {
		t.Fatal("X-Forwarded-For from an untrusted peer must not pick the bucket")
	}

	proxied := limitedEngine(RateLimit(RateLimitConfig{RPS: 1, Burst: 1, Now: clock.Now,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}))
	// The right-most untrusted hop is the client; what it prepended does not count.
	if hit(proxied, "192.0.2.1:1", "X-Forwarded-For", "1.1.1.1, 10.0.0.1, 192.0.2.9").Code != 200 ||
		hit(proxied, "192.0.2.1:1", "X-Forwarded-For", "2.2.2.2, 10.0.0.1").Code != 429 {
		t.Fatal("behind a trusted proxy, the client is the right-most untrusted hop")
	}
	if rec := hit(proxied, "192.0.2.1:1", "X-Forwarded-For", "10.0.0.2"); rec.Code != 200 {
		t.Fatalf("another client behind the proxy: %d", rec.Code)
	}
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	h := limitedEngine(RateLimit(RateLimitConfig{RPS: 0, Burst: 1}))
	for i := range 100 {
		if rec := hit(h, "192.0.2.1:1"); rec.Code != 200 {
			t.Fatalf("request %d with the limit off: %d", i+1, rec.Code)
		}
	}
}

func TestRateLimitEvictsIdleBuckets(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(0, 0)}
	l := newRateLimiter(RateLimitConfig{RPS: 10, Burst: 20, Now: clock.Now}) // full again after 2 s
	h := limitedEngine(l.handle)
	for i := range 50 {
		hit(h, "198.51.100."+strconv.Itoa(i)+":1")
	}
	if n := l.size(); n != 50 {
		t.Fatalf("buckets = %d, want 50", n)
	}
	clock.Add(1 * time.Second)
	hit(h, "198.51.100.200:1")
	if n := l.size(); n != 51 {
		t.Fatalf("buckets evicted before they are full again: %d", n)
	}
	clock.Add(1500 * time.Millisecond)
	hit(h, "198.51.100.201:1")
	// The 50 first are idle for 2.5 s, full again: dropped. The one seen 1.5 s ago stays.
	if n := l.size(); n != 2 {
		t.Fatalf("buckets after the idle period = %d, want 2", n)
	}
}

func TestRateLimitFromEnv(t *testing.T) {
	for _, k := range []string{"RATE_LIMIT_RPS", "RATE_LIMIT_BURST", "RATE_LIMIT_TRUSTED_PROXIES"} {
		t.Setenv(k, "")
	}
	cfg, err := RateLimitFromEnv(200, 400)
	if err != nil || cfg.RPS != 200 || cfg.Burst != 400 || len(cfg.TrustedProxies) != 0 {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	t.Setenv("RATE_LIMIT_RPS", "0")
	t.Setenv("RATE_LIMIT_BURST", "7")
	t.Setenv("RATE_LIMIT_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.4 ,::1")
	cfg, err = RateLimitFromEnv(200, 400)
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.4/32"), netip.MustParsePrefix("::1/128")}
	if err != nil || cfg.RPS != 0 || cfg.Burst != 7 || len(cfg.TrustedProxies) != 3 {
		t.Fatalf("set: %+v, %v", cfg, err)
	}
	for i, p := range want {
		if cfg.TrustedProxies[i] != p {
			t.Fatalf("proxy %d = %v, want %v", i, cfg.TrustedProxies[i], p)
		}
	}
	for k, v := range map[string]string{"RATE_LIMIT_RPS": "-1", "RATE_LIMIT_BURST": "x", "RATE_LIMIT_TRUSTED_PROXIES": "proxy.local"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, v)
			if _, err := RateLimitFromEnv(200, 400); err == nil {
				t.Fatalf("%s=%s accepted", k, v)
			}
		})
	}
}
