// Package backend is how the console reaches the platform: the intake, referential and
// notifications services' public HTTP APIs, called with the signed-in person's own token
// (so each service enforces its own authorization, exactly as for any other client).
package backend

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/apiclient"
	"github.com/plateforme-rome/rome/platform/httpx"
)

// Error is a service's refusal, decoded from its problem+json.
type Error = apiclient.Error

// AsError returns the service's refusal in err, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

type tokenKey struct{}

// WithToken returns a context whose calls carry token as their bearer.
func WithToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// bearer adds the context's token to every request.
type bearer struct{ next http.RoundTripper }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, _ := r.Context().Value(tokenKey{}).(string); tok != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return b.next.RoundTrip(r)
}

// Config locates the services.
type Config struct {
	IntakeURL, ReferentialURL, NotificationsURL string
	// Timeout bounds every call; a page waits for its slowest.
	Timeout time.Duration
}

// Backend holds one client per service.
type Backend struct {
	Intake        *Intake
	Referential   *Referential
	Notifications *Notifications
}

// New returns the clients. Their transport keeps connections alive (the console calls the
// same three services for every page) and propagates the trace.
func New(cfg Config) *Backend {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	hc := &http.Client{Timeout: cfg.Timeout, Transport: bearer{next: httpx.OutboundTransport(base)}}
	return &Backend{
		Intake:        &Intake{api: apiclient.New("intake", cfg.IntakeURL, hc)},
		Referential:   &Referential{api: apiclient.New("referential", cfg.ReferentialURL, hc), client: refclient.New(cfg.ReferentialURL, hc)},
		Notifications: &Notifications{api: apiclient.New("notifications", cfg.NotificationsURL, hc), client: notifclient.New(cfg.NotificationsURL, hc)},
	}
}
