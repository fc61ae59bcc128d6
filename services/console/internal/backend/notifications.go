package backend

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/apiclient"
)

// Notifications reads the person's inbox, preferences and follows, how many people follow
// fiches (the ROME team), and the dead letters (admins).
type Notifications struct {
	api *apiclient.Client
	// client is the service's own Go client, for the routes it covers.
	client *notifclient.Client
}

// Inbox reads a page of the person's notifications, newest first.
func (c *Notifications) Inbox(ctx context.Context, limit int, cursor string) (notifclient.Inbox, error) {
	var in notifclient.Inbox
	err := c.api.Do(ctx, http.MethodGet, "/v1/notifications?"+page(limit, cursor), nil, &in)
	return in, err
}

// MarkRead marks a notification read.
func (c *Notifications) MarkRead(ctx context.Context, id string) error {
	return c.api.Do(ctx, http.MethodPost, "/v1/notifications/"+url.PathEscape(id)+"/read", nil, nil)
}

// Preferences reads the person's notification settings.
func (c *Notifications) Preferences(ctx context.Context) (notifclient.Preferences, error) {
	var p notifclient.Preferences
	err := c.api.Do(ctx, http.MethodGet, "/v1/notifications/preferences", nil, &p)
	return p, err
}

// SetPreferences changes the settings of the events it lists.
func (c *Notifications) SetPreferences(ctx context.Context, p notifclient.Preferences) (notifclient.Preferences, error) {
	var out notifclient.Preferences
	err := c.api.Do(ctx, http.MethodPut, "/v1/notifications/preferences", p, &out)
	return out, err
}

// Follows lists what the person follows.
func (c *Notifications) Follows(ctx context.Context) ([]notifclient.Follow, error) {
	var out struct {
		Items []notifclient.Follow `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/follows", nil, &out)
	return out.Items, err
}

// Follow follows a request or a fiche; following twice is no error.
func (c *Notifications) Follow(ctx context.Context, f notifclient.Follow) error {
	return c.api.Do(ctx, http.MethodPost, "/v1/follows", f, nil)
}

// Unfollow stops following a request or a fiche.
func (c *Notifications) Unfollow(ctx context.Context, f notifclient.Follow) error {
	return c.api.Do(ctx, http.MethodDelete, "/v1/follows", f, nil)
}

// FollowerCounts counts the people who follow each fiche of codesRome (the ROME team: a
// partner gets the service's 403).
func (c *Notifications) FollowerCounts(ctx context.Context, codesRome []string) ([]notifclient.FollowerCount, error) {
	return c.client.FollowerCounts(ctx, codesRome)
}

// DeadLetters lists the deliveries given up (admins).
func (c *Notifications) DeadLetters(ctx context.Context, limit int, cursor string) (notifclient.DeadLetters, error) {
	var out notifclient.DeadLetters
	err := c.api.Do(ctx, http.MethodGet, "/v1/notifications/dead-letters?"+page(limit, cursor), nil, &out)
	return out, err
}

// RetryDeadLetter queues a dead delivery again (admins).
func (c *Notifications) RetryDeadLetter(ctx context.Context, id string) error {
	return c.api.Do(ctx, http.MethodPost, "/v1/notifications/dead-letters/"+url.PathEscape(id)+"/retry", nil, nil)
}

func page(limit int, cursor string) string {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return v.Encode()
}
