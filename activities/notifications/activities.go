// Package notifications holds the worker's activity that notifies people
// through the notifications service.
package notifications

import (
	"context"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/temporalx"
)

// ErrTypeRefused is the type of the non-retryable application error of a
// notification the service refused (4xx other than 408 and 429): retrying
// the same notification cannot succeed.
const ErrTypeRefused = "NotificationRefused"

// Activities notify through the notifications service.
type Activities struct {
	Client *notifclient.Client
}

// NotifyInput is the notification to create. Its Key makes retries safe:
// the service answers a repeated key with the first notification.
type NotifyInput struct {
	Notification notifclient.Notification `json:"notification"`
}

// NotifyOutput names the notification created.
type NotifyOutput struct {
	ID string `json:"id"`
}

// Notify creates the notification. Outages (network, 5xx, 408, 429) are
// left to the retry policy, after the service's Retry-After when it gives
// one; refusals are final (ErrTypeRefused).
func (a *Activities) Notify(ctx context.Context, in NotifyInput) (NotifyOutput, error) {
	created, err := a.Client.Notify(ctx, in.Notification)
	if err != nil {
		return NotifyOutput{}, temporalx.ActivityError(err, ErrTypeRefused)
	}
	return NotifyOutput{ID: created.ID}, nil
}
