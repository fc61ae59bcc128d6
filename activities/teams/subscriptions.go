package teams

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// SubscriptionLifetime is asked for each subscription: Graph's maximum for channel messages
// is 60 minutes; renew well before ExpiresAt.
const SubscriptionLifetime = 55 * time.Minute

// EnsureSubscriptionInput asks for change notifications on a channel's new messages.
type EnsureSubscriptionInput struct {
	ChannelID       string `json:"channelId"`
	NotificationURL string `json:"notificationUrl"`
	ClientState     string `json:"clientState"` // secret echoed in each notification; empty: Config.ClientState
	// MayExist: an earlier call may have created the subscription (its answer lost), so look
	// for it first, as a retried attempt does.
	MayExist bool `json:"mayExist,omitempty"`
}

// EnsureSubscriptionOutput is the subscription.
type EnsureSubscriptionOutput struct {
	SubscriptionID string    `json:"subscriptionId"`
	ExpiresAt      time.Time `json:"expiresAt"`
}

// EnsureSubscription creates a subscription of this application to the channel's messages;
// Graph checks the notification URL with the validation handshake before answering. A retry
// (an earlier attempt's answer may have been lost) first reuses a live subscription to the
// same resource and URL. Only retries list: Graph cannot filter subscriptions, so a listing
// costs as much as the application has channels.
func (a *Activities) EnsureSubscription(ctx context.Context, in EnsureSubscriptionInput) (EnsureSubscriptionOutput, error) {
	if in.ClientState == "" {
		in.ClientState = a.cfg.ClientState
	}
	resource := a.messagesResource(in.ChannelID)
	if in.MayExist || activity.GetInfo(ctx).Attempt > 1 {
		if out, found, err := a.reuseSubscription(ctx, resource, in); found || err != nil {
			return out, err
		}
	}
	body := models.NewSubscription()
	changeType := "created"
	exp := time.Now().Add(SubscriptionLifetime).UTC()
	body.SetChangeType(&changeType)
	body.SetNotificationUrl(&in.NotificationURL)
	body.SetResource(&resource)
	body.SetExpirationDateTime(&exp)
	body.SetClientState(&in.ClientState)
	s, err := a.graph.Subscriptions().Post(ctx, body, nil)
	if err != nil {
		return EnsureSubscriptionOutput{}, a.classify(ctx, "create subscription", err)
	}
	return EnsureSubscriptionOutput{SubscriptionID: deref(s.GetId()), ExpiresAt: deref(s.GetExpirationDateTime()).UTC()}, nil
}

// reuseSubscription renews and returns a live subscription to resource with in's URL and
// client state, when there is one.
func (a *Activities) reuseSubscription(ctx context.Context, resource string, in EnsureSubscriptionInput) (EnsureSubscriptionOutput, bool, error) {
	list, err := a.graph.Subscriptions().Get(ctx, nil)
	if err != nil {
		return EnsureSubscriptionOutput{}, false, a.classify(ctx, "list subscriptions", err)
	}
	for _, s := range list.GetValue() {
		if strings.EqualFold(strings.TrimPrefix(deref(s.GetResource()), "/"), strings.TrimPrefix(resource, "/")) &&
			deref(s.GetNotificationUrl()) == in.NotificationURL && deref(s.GetClientState()) == in.ClientState {
			expires, err := a.renew(ctx, deref(s.GetId()))
			if err == nil {
				return EnsureSubscriptionOutput{SubscriptionID: deref(s.GetId()), ExpiresAt: expires}, true, nil
			}
			if !isNotFound(err) {
				return EnsureSubscriptionOutput{}, false, err
			}
		}
	}
	return EnsureSubscriptionOutput{}, false, nil
}

func (a *Activities) messagesResource(channelID string) string {
	return "/teams/" + a.cfg.TeamID + "/channels/" + channelID + "/messages"
}

// RenewSubscriptionInput names a subscription to extend. The other fields let it be
// recreated when Graph has dropped it (expired or deleted).
type RenewSubscriptionInput struct {
	SubscriptionID  string `json:"subscriptionId"`
	ChannelID       string `json:"channelId"`
	NotificationURL string `json:"notificationUrl"`
	ClientState     string `json:"clientState"`
}

// RenewSubscriptionOutput is the subscription after renewal (a new id when it was recreated).
type RenewSubscriptionOutput struct {
	SubscriptionID string    `json:"subscriptionId"`
	ExpiresAt      time.Time `json:"expiresAt"`
}

// RenewSubscription extends a subscription by SubscriptionLifetime, recreating it when it is gone.
func (a *Activities) RenewSubscription(ctx context.Context, in RenewSubscriptionInput) (RenewSubscriptionOutput, error) {
	exp, err := a.renew(ctx, in.SubscriptionID)
	if err == nil {
		return RenewSubscriptionOutput{SubscriptionID: in.SubscriptionID, ExpiresAt: exp}, nil
	}
	if !isNotFound(err) || in.ChannelID == "" {
		return RenewSubscriptionOutput{}, err
	}
	out, err := a.EnsureSubscription(ctx, EnsureSubscriptionInput{ChannelID: in.ChannelID, NotificationURL: in.NotificationURL, ClientState: in.ClientState})
	if err != nil {
		return RenewSubscriptionOutput{}, err
	}
	return RenewSubscriptionOutput(out), nil
}

func (a *Activities) renew(ctx context.Context, id string) (time.Time, error) {
	patch := models.NewSubscription()
	exp := time.Now().Add(SubscriptionLifetime).UTC()
	patch.SetExpirationDateTime(&exp)
	s, err := a.graph.Subscriptions().BySubscriptionId(id).Patch(ctx, patch, nil)
	if err != nil {
		return time.Time{}, a.classify(ctx, "renew subscription", err)
	}
	return deref(s.GetExpirationDateTime()).UTC(), nil
}

func isNotFound(err error) bool {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return false
	}
	var d GraphError
	return app.HasDetails() && app.Details(&d) == nil && d.Status == http.StatusNotFound
}
