package app

import (
	"context"
	"errors"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// defaultChannels are the settings of an event a user never changed: in-app
// and e-mail at once. Teams activity-feed notifications are opt-in, so that
// nobody gets every notification twice (mail and feed) without asking.
func defaultChannels() notifclient.Channels {
	return notifclient.Channels{InApp: true, Email: true, Teams: false, Frequency: notifclient.Immediate}
}

// wants tells whether the choices c ask for deliveries on channel.
func wants(c notifclient.Channels, channel string) bool {
	if channel == store.ChannelTeams {
		return c.Teams
	}
	return c.Email
}

// channelsOf is a stored choice; in-app cannot be turned off.
func channelsOf(p store.Preference) notifclient.Channels {
	return notifclient.Channels{InApp: true, Email: p.Email, Teams: p.Teams, Frequency: notifclient.Frequency(p.Frequency)}
}

// Preferences returns sub's settings for every event (the defaults for those
// never changed) and the address of their preferences.
func (s *Service) Preferences(ctx context.Context, sub string) (notifclient.Preferences, error) {
	return preferences(ctx, s.store, sub)
}

// SetPreferences changes the events p lists (the others keep their settings)
// and the address of a known user's preferences, and returns them all.
func (s *Service) SetPreferences(ctx context.Context, sub string, p notifclient.Preferences) (notifclient.Preferences, error) {
	var out notifclient.Preferences
	err := s.store.Transaction(ctx, func(tx *store.Store) error {
		if err := tx.SetPreferenceEmail(ctx, sub, p.Email); err != nil {
			return err
		}
		rows := make([]store.Preference, 0, len(p.Events))
		for e, c := range p.Events {
			rows = append(rows, store.Preference{Sub: sub, Event: string(e), Email: c.Email, Teams: c.Teams, Frequency: string(c.Frequency)})
		}
		if err := tx.SavePreferences(ctx, rows); err != nil {
			return err
		}
		var err error
		out, err = preferences(ctx, tx, sub)
		return err
	})
	return out, err
}

func preferences(ctx context.Context, st *store.Store, sub string) (notifclient.Preferences, error) {
	u, err := st.User(ctx, sub)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return notifclient.Preferences{}, err
	}
	rows, err := st.Preferences(ctx, sub)
	if err != nil {
		return notifclient.Preferences{}, err
	}
	p := notifclient.Preferences{Email: u.PrefEmail, Events: make(map[notifclient.Event]notifclient.Channels, len(notifclient.Events))}
	for _, e := range notifclient.Events {
		p.Events[e] = defaultChannels()
	}
	for _, r := range rows {
		p.Events[notifclient.Event(r.Event)] = channelsOf(r)
	}
	return p, nil
}
