package httpx

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/plateforme-rome/rome/platform/config"
)

// RateLimitConfig sets a per-client token bucket (see RateLimit).
type RateLimitConfig struct {
	// RPS is the sustained rate each client may send, in requests per second;
	// 0 (or less) turns the limit off.
	RPS float64
	// Burst is how many requests a client may send at once; below 1 it is
	// the RPS rounded up (at least 1).
	Burst int
	// TrustedProxies are the peers whose X-Forwarded-For is believed. Empty:
	// the client is the connection's remote address, whatever the headers say.
	TrustedProxies []netip.Prefix
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// RateLimitFromEnv reads RATE_LIMIT_RPS, RATE_LIMIT_BURST and
// RATE_LIMIT_TRUSTED_PROXIES (comma-separated addresses or CIDR prefixes),
// with the service's defaults for the first two.
func RateLimitFromEnv(defRPS float64, defBurst int) (RateLimitConfig, error) {
	rps, err := config.Float("RATE_LIMIT_RPS", defRPS)
	if err != nil {
		return RateLimitConfig{}, err
	}
	if rps < 0 {
		return RateLimitConfig{}, fmt.Errorf("RATE_LIMIT_RPS=%v: must be 0 (off) or more", rps)
	}
	burst, err := config.Int("RATE_LIMIT_BURST", defBurst)
	if err != nil {
		return RateLimitConfig{}, err
	}
	if burst < 0 {
		return RateLimitConfig{}, fmt.Errorf("RATE_LIMIT_BURST=%d: must be 0 (the RPS) or more", burst)
	}
	cfg := RateLimitConfig{RPS: rps, Burst: burst}
	for _, s := range strings.Split(config.String("RATE_LIMIT_TRUSTED_PROXIES", ""), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return RateLimitConfig{}, fmt.Errorf("RATE_LIMIT_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR prefix", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
	}
	return cfg, nil
}

// RateLimit refuses a client's requests beyond its token bucket with a 429
// problem (code rate_limited) and a Retry-After header in whole seconds.
// Clients are told apart by IP address (an IPv6 client by its /64, which one
// host usually holds entirely). A client's bucket is dropped once it has been
// idle long enough to be full again, so memory follows the active clients.
// With RPS 0 it lets everything through.
func RateLimit(cfg RateLimitConfig) gin.HandlerFunc {
	if cfg.RPS <= 0 {
		return func(c *gin.Context) { c.Next() }
	}
	return newRateLimiter(cfg).handle
}

type rateLimiter struct {
	rps     float64
	burst   int
	trusted []netip.Prefix
	now     func() time.Time
	// idle is how long a bucket takes to refill entirely: an entry idle this
	// long is a full bucket, the same as no entry.
	idle time.Duration

	mu        sync.Mutex
	buckets   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newRateLimiter(cfg RateLimitConfig) *rateLimiter {
	burst := cfg.Burst
	if burst < 1 {
		burst = max(1, int(math.Ceil(cfg.RPS)))
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	idle := time.Duration(float64(burst) / cfg.RPS * float64(time.Second))
	return &rateLimiter{rps: cfg.RPS, burst: burst, trusted: cfg.TrustedProxies, now: now,
		idle: max(idle, time.Second), buckets: map[netip.Addr]*bucket{}, lastSweep: now()}
}

func (l *rateLimiter) handle(c *gin.Context) {
	key := l.client(c.Request)
	now := l.now()
	wait, ok := l.take(key, now)
	if ok {
		c.Next()
		return
	}
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(max(secs, 1)))
	WriteProblem(c, NewProblem(http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("Too many requests from this client; retry in %d s.", max(secs, 1))))
}

// take spends one token of key's bucket, or says how long until one is there.
func (l *rateLimiter) take(key netip.Addr, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) >= l.idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, found := l.buckets[key]
	if !found {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.rps), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - b.lim.TokensAt(now)
	return time.Duration(missing / l.rps * float64(time.Second)), false
}

// size is the number of buckets held (for tests).
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// client is the request's client address: the connection's peer, or, when the
// peer is a trusted proxy, the right-most X-Forwarded-For address that is not
// one (the left-most entries are whatever the client chose to send).
func (l *rateLimiter) client(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{} // not an IP (a unix socket): one shared bucket
	}
	addr = addr.Unmap().WithZone("")
	if l.isTrusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = hop.Unmap().WithZone("")
			if !l.isTrusted(addr) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

func (l *rateLimiter) isTrusted(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
