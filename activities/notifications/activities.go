// Package notifications holds the worker's activities on the notifications
// service: notifying people, and counting the people who follow fiches.
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

// ErrTypeCountRefused is the type of the non-retryable application error of
// a follower count the service refused (4xx other than 408 and 429).
const ErrTypeCountRefused = "FollowerCountRefused"

// Activities call the notifications service.
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

// CountFollowersInput names the fiches whose followers to count, each once.
type CountFollowersInput struct {
	CodesRome []string `json:"codesRome"`
}

// CountFollowersOutput counts the people who follow each fiche, in the order
// of the input, zero included.
type CountFollowersOutput struct {
	Counts []notifclient.FollowerCount `json:"counts"`
}

// CountFollowers counts the people who follow each fiche of the input. Outages
// are left to the retry policy; refusals are final (ErrTypeCountRefused).
func (a *Activities) CountFollowers(ctx context.Context, in CountFollowersInput) (CountFollowersOutput, error) {
	counts, err := a.Client.FollowerCounts(ctx, in.CodesRome)
	if err != nil {
		return CountFollowersOutput{}, temporalx.ActivityError(err, ErrTypeCountRefused)
	}
	return CountFollowersOutput{Counts: counts}, nil
}
