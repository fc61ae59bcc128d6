package app

import (
	"context"
	"slices"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Directory is the platform's directory of people (the intake's), asked at send time who a
// notification reaches: people are known there before they ever call this service.
type Directory interface {
	// ActivePeople returns the active people (in an active organisation) who hold one of
	// q.Roles, the active partners of q.Orgs, and the active people among q.Subs.
	ActivePeople(ctx context.Context, q PeopleQuery) ([]Person, error)
}

// PeopleQuery selects people of the directory; see Directory.
type PeopleQuery struct {
	Roles, Orgs, Subs []string
}

// Person is what a notification needs of a person of the directory.
type Person struct {
	Sub, Name, Email, Role, Org, EntraID string
	// Until AbsentUntil, the reminders and escalations meant for them go to Delegate.
	AbsentUntil *time.Time
	Delegate    string
}

// audience is who n reaches, by subject, before their preferences: the named users, the
// holders of its roles, the partners of its organisations and the followers of its request
// or fiche (a partner follower only when n's organisation is empty or their own), minus
// the excluded users. With a directory, the directory says who they are (only active
// people); without one, the people this service has seen. Named users unknown to both get
// an inbox row and no delivery (they have no address).
func (s *Service) audience(ctx context.Context, n notifclient.Notification) (map[string]store.User, error) {
	followers, err := s.store.Followers(ctx, n.RequestID, n.CodeRome)
	if err != nil {
		return nil, err
	}
	found := map[string]store.User{}
	for _, sub := range n.To.Users {
		found[sub] = store.User{Sub: sub}
	}
	var people []store.User
	if s.directory != nil {
		people, err = s.directoryPeople(ctx, n, followers)
	} else {
		people, err = s.seenPeople(ctx, n)
	}
	if err != nil {
		return nil, err
	}
	for _, u := range people {
		found[u.Sub] = u
	}
	for _, f := range followers {
		u, ok := found[f.Sub]
		if s.directory == nil {
			u, ok = f, true
		}
		if !ok || (u.Role == string(auth.RolePartner) && n.Org != "" && u.Org != n.Org) {
			continue // deactivated, or another organisation's request: not theirs to see
		}
		found[u.Sub] = u
	}
	for _, sub := range n.ExcludeUsers {
		delete(found, sub)
	}
	return found, nil
}

// seenPeople are the named users, the holders of n's roles and the partners of its
// organisations among the people this service has seen.
func (s *Service) seenPeople(ctx context.Context, n notifclient.Notification) ([]store.User, error) {
	var out []store.User
	for _, find := range []func() ([]store.User, error){
		func() ([]store.User, error) { return s.store.UsersBySub(ctx, n.To.Users) },
		func() ([]store.User, error) { return s.store.UsersByRole(ctx, n.To.Roles) },
		func() ([]store.User, error) { return s.store.Members(ctx, string(auth.RolePartner), n.To.Orgs) },
	} {
		users, err := find()
		if err != nil {
			return nil, err
		}
		out = append(out, users...)
	}
	return out, nil
}

// directoryPeople are the named users, the holders of n's roles, the partners of its
// organisations and the followers, as the directory describes them: only the active ones.
// The address a person chose in their preferences, when they did, stays theirs.
func (s *Service) directoryPeople(ctx context.Context, n notifclient.Notification, followers []store.User) ([]store.User, error) {
	subs := slices.Clone(n.To.Users)
	for _, f := range followers {
		subs = append(subs, f.Sub)
	}
	slices.Sort(subs)
	people, err := s.directory.ActivePeople(ctx, PeopleQuery{Roles: n.To.Roles, Orgs: n.To.Orgs, Subs: slices.Compact(subs)})
	if err != nil {
		return nil, err
	}
	if n.Event == notifclient.EventReminder || n.Event == notifclient.EventEscalation {
		if people, err = s.delegated(ctx, people); err != nil {
			return nil, err
		}
	}
	known := make([]string, len(people))
	for i, p := range people {
		known[i] = p.Sub
	}
	local, err := s.store.UsersBySub(ctx, known)
	if err != nil {
		return nil, err
	}
	chosen := make(map[string]string, len(local))
	for _, u := range local {
		chosen[u.Sub] = u.PrefEmail
	}
	out := make([]store.User, len(people))
	for i, p := range people {
		out[i] = store.User{Sub: p.Sub, Name: p.Name, Role: p.Role, Org: p.Org, TokenEmail: p.Email, EntraID: p.EntraID, PrefEmail: chosen[p.Sub]}
	}
	return out, nil
}

// delegated is people with each absent person who named a delegate replaced by that
// delegate (when the directory still lists them as active).
func (s *Service) delegated(ctx context.Context, people []Person) ([]Person, error) {
	now := s.now()
	var delegates []string
	kept := people[:0:0]
	for _, p := range people {
		if p.Delegate != "" && p.AbsentUntil != nil && now.Before(*p.AbsentUntil) {
			delegates = append(delegates, p.Delegate)
			continue
		}
		kept = append(kept, p)
	}
	if len(delegates) == 0 {
		return people, nil
	}
	slices.Sort(delegates)
	found, err := s.directory.ActivePeople(ctx, PeopleQuery{Subs: slices.Compact(delegates)})
	if err != nil {
		return nil, err
	}
	for _, d := range found {
		if !slices.ContainsFunc(kept, func(p Person) bool { return p.Sub == d.Sub }) {
			kept = append(kept, d)
		}
	}
	return kept, nil
}
