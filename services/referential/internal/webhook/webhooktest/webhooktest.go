// Package webhooktest is a consumer's endpoint for tests: it verifies every delivery's
// Standard Webhooks signature on its own (HMAC-SHA256 of id.timestamp.body), records what
// it accepted by webhook-id, and can fail, or go away and come back on the same address.
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Delivery is a delivery the receiver accepted.
type Delivery struct {
	ID         string // webhook-id
	Type       string
	Version    int
	CodeRome   string
	Signatures int // how many signatures the header carried
	Body       []byte
}

// Receiver is a webhook endpoint.
type Receiver struct {
	t    testing.TB
	addr string
	srv  *httptest.Server

	mu       sync.Mutex
	secrets  []string
	status   int
	got      []Delivery
	rejected []string // why deliveries were refused: signatures that did not verify
	hold     chan struct{}
	arrived  chan struct{}
}

// New starts a receiver that accepts (204) deliveries signed with one of secrets (set
// with Trust once the endpoint is registered).
func New(t testing.TB) *Receiver {
	r := &Receiver{t: t, status: http.StatusNoContent}
	r.srv = httptest.NewServer(r)
	r.addr = r.srv.Listener.Addr().String()
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// URL is the endpoint's URL.
func (r *Receiver) URL() string { return "http://" + r.addr + "/hooks/rome" }

// Trust sets the secrets a signature may verify with.
func (r *Receiver) Trust(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = secrets
}

// Answer makes the receiver answer status to every correctly signed delivery from now
// on; a non-2xx status means it was not processed, and is not recorded.
func (r *Receiver) Answer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// Hold makes the next deliveries wait until the returned func is called; arrived is
// signalled as each one comes in.
func (r *Receiver) Hold() (arrived <-chan struct{}, release func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold, r.arrived = make(chan struct{}), make(chan struct{}, 100)
	hold := r.hold
	return r.arrived, func() { close(hold) }
}

// Stop takes the endpoint down: connections are refused.
func (r *Receiver) Stop() { r.srv.Close() }

// Restart brings the endpoint back on the same address.
func (r *Receiver) Restart() {
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("restart the receiver on %s: %v", r.addr, err)
	}
	r.srv = httptest.NewUnstartedServer(r)
	r.srv.Listener.Close()
	r.srv.Listener = l
	r.srv.Start()
}

// Delivered lists the accepted deliveries in the order they arrived.
func (r *Receiver) Delivered() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Rejected lists the deliveries whose signature did not verify.
func (r *Receiver) Rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}

// ServeHTTP verifies and records a delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	hold, arrived := r.hold, r.arrived
	r.mu.Unlock()
	if hold != nil {
		arrived <- struct{}{}
		<-hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ts, sigs := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
	if !verify(r.secrets, id+"."+ts+"."+string(body), sigs) {
		r.rejected = append(r.rejected, id+": "+sigs)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.status/100 != 2 {
		w.WriteHeader(r.status)
		return
	}
	var env struct {
		Type string
		Data struct {
			Version  int
			CodeRome string
		}
	}
	if err := json.Unmarshal(body, &env); err != nil {
		r.rejected = append(r.rejected, id+": not JSON")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got = append(r.got, Delivery{ID: id, Type: env.Type, Version: env.Data.Version, CodeRome: env.Data.CodeRome,
		Signatures: len(strings.Fields(sigs)), Body: body})
	w.WriteHeader(r.status)
}

// verify tells whether one of the space-separated "v1,<base64>" signatures is the
// HMAC-SHA256 of content under one of the whsec_ secrets.
func verify(secrets []string, content, header string) bool {
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			continue
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(content))
		want := mac.Sum(nil)
		for _, sig := range strings.Fields(header) {
			v, b64, _ := strings.Cut(sig, ",")
			got, err := base64.StdEncoding.DecodeString(b64)
			if v == "v1" && err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// Clock is a dispatcher's clock that the test moves: nothing sleeps.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock forward.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
