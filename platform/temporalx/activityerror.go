package temporalx

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/platform/apiclient"
)

// ActivityError turns a service client's error into what an activity returns: outages
// (network errors, 5xx, 408, 429, 401) are left to the retry policy, after the service's
// Retry-After when it gives one; refusals are final, as a non-retryable application error of
// type refusedType whose details hold the service's error code.
func ActivityError(err error, refusedType string) error {
	var e *apiclient.Error
	switch {
	case err == nil || !errors.As(err, &e):
		return err
	case e.Temporary():
		return temporal.NewApplicationErrorWithOptions(e.Error(), e.Code, temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: e.RetryAfter})
	}
	return temporal.NewNonRetryableApplicationError(e.Error(), refusedType, err, e.Code)
}
