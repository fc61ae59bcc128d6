package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/activities/teams"
)

// fakeTeams is Microsoft Graph as the teams activities see it: channels, messages
// (idempotent by key) and subscriptions, with outages and refusals.
type fakeTeams struct {
	h         *harness
	created   []teams.CreateChannelInput
	posts     []teams.PostMessageInput // posted once each
	closed    []teams.CloseChannelInput
	added     []teams.AddMemberInput
	subs      []teams.EnsureSubscriptionInput
	renewals  []teams.RenewSubscriptionInput
	gets      []teams.GetMessageInput
	messages  map[string]teams.GetMessageOutput // what GetMessage answers, by id
	down      int                               // calls that fail (Graph unavailable) before the first success
	refuse    bool                              // CreateChannel is refused for good
	noSubs    bool                              // EnsureSubscription is refused for good
	subsDown  int                               // EnsureSubscription calls that fail (Graph unavailable) first
	private   bool                              // channels are private
	strangers []string                          // Entra ids AddMember refuses for good (not in the team)
	deleted   bool                              // the channel was deleted in Teams: posting to it answers 404
	forbidden bool                              // PostMessage is refused for good (403)
}

const fakeChannel = "19:r1@thread.tacv2"

func newFakeTeams(h *harness) *fakeTeams {
	f := &fakeTeams{h: h, messages: map[string]teams.GetMessageOutput{}}
	env := h.env
	outage := func() error {
		if f.down > 0 {
			f.down--
			return temporal.NewApplicationError("teams: HTTP 503", teams.ErrTypeUnavailable)
		}
		return nil
	}
	env.OnActivity(teamsActs.CreateChannel, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.CreateChannelInput) (teams.CreateChannelOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if err := outage(); err != nil {
				return teams.CreateChannelOutput{}, err
			}
			if f.refuse {
				return teams.CreateChannelOutput{}, temporal.NewNonRetryableApplicationError("teams: create channel: HTTP 403 Forbidden",
					teams.ErrTypeRejected, nil, teams.GraphError{Status: 403, Code: "Forbidden"})
			}
			f.created = append(f.created, in)
			id := fakeChannel // the first; one that replaces a deleted channel has another id
			if n := len(f.created); n > 1 {
				id = fmt.Sprintf("19:r1-%d@thread.tacv2", n)
			}
			f.deleted = false
			return teams.CreateChannelOutput{ChannelID: id, WebURL: "https://teams.example/r1", Name: "r1 M1805 Rust developers",
				Private: f.private}, nil
		})
	env.OnActivity(teamsActs.AddMember, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.AddMemberInput) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if slices.Contains(f.strangers, in.UserID) {
				return temporal.NewNonRetryableApplicationError("teams: add member: HTTP 404 NotFound",
					teams.ErrTypeRejected, nil, teams.GraphError{Status: 404, Code: "NotFound"})
			}
			f.added = append(f.added, in)
			return nil
		})
	env.OnActivity(teamsActs.PostMessage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.PostMessageInput) (teams.PostMessageOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if err := outage(); err != nil {
				return teams.PostMessageOutput{}, err
			}
			switch {
			case f.deleted:
				return teams.PostMessageOutput{}, temporal.NewNonRetryableApplicationError("teams: post message: HTTP 404 NotFound",
					teams.ErrTypeRejected, nil, teams.GraphError{Status: 404, Code: "NotFound"})
			case f.forbidden:
				return teams.PostMessageOutput{}, temporal.NewNonRetryableApplicationError("teams: post message: HTTP 403 Forbidden",
					teams.ErrTypeRejected, nil, teams.GraphError{Status: 403, Code: "Forbidden"})
			}
			for _, p := range f.posts {
				if p.Key == in.Key {
					return teams.PostMessageOutput{MessageID: "posted-" + p.Key}, nil
				}
			}
			f.posts = append(f.posts, in)
			return teams.PostMessageOutput{MessageID: "posted-" + in.Key}, nil
		})
	env.OnActivity(teamsActs.CloseChannel, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.CloseChannelInput) (teams.CloseChannelOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			f.closed = append(f.closed, in)
			return teams.CloseChannelOutput{Archived: true}, nil
		})
	env.OnActivity(teamsActs.EnsureSubscription, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.EnsureSubscriptionInput) (teams.EnsureSubscriptionOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			f.subs = append(f.subs, in)
			if f.subsDown > 0 {
				f.subsDown--
				return teams.EnsureSubscriptionOutput{}, temporal.NewApplicationError("teams: HTTP 503", teams.ErrTypeUnavailable)
			}
			if f.noSubs {
				return teams.EnsureSubscriptionOutput{}, temporal.NewNonRetryableApplicationError("teams: create subscription: HTTP 403 Forbidden",
					teams.ErrTypeRejected, nil, teams.GraphError{Status: 403, Code: "Forbidden"})
			}
			return teams.EnsureSubscriptionOutput{SubscriptionID: "sub-1", ExpiresAt: env.Now().Add(teams.SubscriptionLifetime)}, nil
		})
	env.OnActivity(teamsActs.RenewSubscription, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.RenewSubscriptionInput) (teams.RenewSubscriptionOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			f.renewals = append(f.renewals, in)
			return teams.RenewSubscriptionOutput{SubscriptionID: in.SubscriptionID, ExpiresAt: env.Now().Add(teams.SubscriptionLifetime)}, nil
		})
	env.OnActivity(teamsActs.GetMessage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.GetMessageInput) (teams.GetMessageOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			f.gets = append(f.gets, in)
			m, ok := f.messages[in.MessageID]
			if !ok {
				return teams.GetMessageOutput{}, temporal.NewNonRetryableApplicationError("teams: get message: HTTP 404", teams.ErrTypeRejected, errors.New("not found"))
			}
			return m, nil
		})
	return f
}

// message is a message a person wrote in the channel.
func (f *fakeTeams) message(id, userID, name, text string, at time.Time) {
	f.messages[id] = teams.GetMessageOutput{ID: id, From: teams.Sender{ID: userID, DisplayName: name}, Text: text, CreatedAt: at}
}
