package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/apiclient"
)

// TargetsTimeout bounds each check of ServiceTargets: a follow waits no
// longer than this for the intake or the referential.
const TargetsTimeout = 5 * time.Second

// ServiceTargets is Targets against the platform's services: the intake
// (GET /v1/requests/{id}, with the caller's token: its visibility rules
// decide) and the referential (GET /v1/fiches/{codeRome}, public).
type ServiceTargets struct {
	intake, referential *apiclient.Client
}

// NewServiceTargets checks follows against the intake at intakeURL and the
// referential at referentialURL (e.g. http://127.0.0.1:8081 and :8082).
// hc carries no token of its own (nil: a client with TargetsTimeout).
func NewServiceTargets(intakeURL, referentialURL string, hc *http.Client) *ServiceTargets {
	if hc == nil {
		hc = &http.Client{Timeout: TargetsTimeout}
	}
	return &ServiceTargets{
		intake:      apiclient.New("intake", strings.TrimRight(intakeURL, "/"), hc),
		referential: apiclient.New("referential", strings.TrimRight(referentialURL, "/"), hc),
	}
}

// RequestVisible asks the intake for the request as the holder of token.
func (t *ServiceTargets) RequestVisible(ctx context.Context, token, id string) error {
	h := http.Header{"Authorization": {"Bearer " + token}}
	return found(t.intake.DoWithHeader(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id), h, nil, nil))
}

// FicheExists asks the referential for the fiche's current version.
func (t *ServiceTargets) FicheExists(ctx context.Context, code string) error {
	return found(t.referential.Do(ctx, http.MethodGet, "/v1/fiches/"+url.PathEscape(code), nil, nil))
}

// found turns a service's 404 into ErrTargetNotFound; any other failure
// (network, 5xx, a refused token) stays an error the caller reports as
// the service being unavailable.
func found(err error) error {
	var e *apiclient.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return ErrTargetNotFound
	}
	return err
}
