package app

import (
	"context"
	"encoding/base64"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Seen records a person calling the API as their token describes them (role,
// organisation, e-mail and Entra object id): from then on they receive role
// and organisation notifications, e-mails and Teams notifications. Services
// are not people and are not recorded. A person whose token says what it said
// at their last recorded call, less than touchInterval ago, is not written
// again.
func (s *Service) Seen(ctx context.Context, p auth.Principal) error {
	if p.Role == auth.RoleService {
		return nil
	}
	u := store.User{Sub: p.Subject, Name: p.Name, Role: string(p.Role), Org: p.Org, TokenEmail: p.Email, EntraID: p.EntraID}
	if s.seen.recent(u) {
		return nil
	}
	row := u
	row.UpdatedAt = s.now()
	if err := s.store.UpsertUser(ctx, row); err != nil {
		return err
	}
	s.seen.remember(u)
	return nil
}

// Users lists the people the service knows, by subject, limit at most, from
// the page whose NextCursor is cursor (empty: the first). A cursor Users did
// not issue is ErrBadCursor.
func (s *Service) Users(ctx context.Context, limit int, cursor string) (notifclient.Users, error) {
	after, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || (cursor != "" && len(after) == 0) {
		return notifclient.Users{}, ErrBadCursor
	}
	users, more, err := s.store.UsersAfter(ctx, string(after), limit)
	if err != nil {
		return notifclient.Users{}, err
	}
	out := notifclient.Users{Items: make([]notifclient.User, len(users))}
	for i, u := range users {
		out.Items[i] = notifclient.User{
			Sub: u.Sub, Name: u.Name, Role: u.Role, Org: u.Org, Email: address(u), HasEntraID: u.EntraID != "",
			LastSeenAt: u.UpdatedAt.UTC(),
		}
	}
	if more {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(users[len(users)-1].Sub))
	}
	return out, nil
}

// address is where a user's e-mails go: the address of their preferences,
// else their token's.
func address(u store.User) string {
	if u.PrefEmail != "" {
		return u.PrefEmail
	}
	return u.TokenEmail
}

// destination is where a user's deliveries on channel go (their e-mail
// address, or their Entra object id for Teams); empty when the user cannot be
// reached there.
func destination(u store.User, channel string) string {
	if channel == store.ChannelTeams {
		return u.EntraID
	}
	return address(u)
}
