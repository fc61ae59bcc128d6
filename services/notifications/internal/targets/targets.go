// Package targets asks the platform's services whether what a follow names is
// there (app.Targets): the intake for a request, with the caller's own token
// so that its visibility rules decide, and the referential for a fiche.
package targets

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/apiclient"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
)

// Timeout bounds each check of Services: a follow waits no longer than this
// for the intake or the referential.
const Timeout = 5 * time.Second

// Services is app.Targets against the platform's services: the intake
// (GET /v1/requests/{id}, with the caller's token: its visibility rules
// decide) and the referential (GET /v1/fiches/{codeRome}, public).
type Services struct {
	intake, referential *apiclient.Client
}

// New checks follows against the intake at intakeURL and the referential at
// referentialURL (e.g. http://127.0.0.1:8081 and :8082). hc carries no token
// of its own (nil: a client with Timeout).
func New(intakeURL, referentialURL string, hc *http.Client) *Services {
	if hc == nil {
		hc = &http.Client{Timeout: Timeout, Transport: httpx.OutboundTransport(nil)}
	}
	return &Services{
		intake:      apiclient.New("intake", strings.TrimRight(intakeURL, "/"), hc),
		referential: apiclient.New("referential", strings.TrimRight(referentialURL, "/"), hc),
	}
}

// RequestVisible asks the intake for the request as the holder of token.
func (t *Services) RequestVisible(ctx context.Context, token, id string) error {
	h := http.Header{"Authorization": {"Bearer " + token}}
	return found(t.intake.DoWithHeader(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id), h, nil, nil))
}

// FicheExists asks the referential for the fiche's current version.
func (t *Services) FicheExists(ctx context.Context, code string) error {
	return found(t.referential.Do(ctx, http.MethodGet, "/v1/fiches/"+url.PathEscape(code), nil, nil))
}

// found turns a service's 404 into app.ErrTargetNotFound; any other failure
// (network, 5xx, a refused token) stays an error the caller reports as
// the service being unavailable.
func found(err error) error {
	var e *apiclient.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return app.ErrTargetNotFound
	}
	return err
}
