package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// ErrKeyReused: a notification key already names another notification.
var ErrKeyReused = errors.New("notification key reused with another body")

// Notify creates a notification in the inbox of each of its recipients
// (recipients), with their deliveries: at once or in a digest, on the
// channels each chose (fanOut), all in one transaction. It is idempotent by
// key: the same key and body again answer the first notification (replayed
// true) and notify nobody twice; the same key with another body is
// ErrKeyReused.
func (s *Service) Notify(ctx context.Context, n notifclient.Notification) (created notifclient.Created, replayed bool, err error) {
	hash := bodyHash(n)
	if first, err := s.replay(ctx, n.Key, hash); !errors.Is(err, ErrNotFound) {
		return first, err == nil, err
	}
	audience, err := s.audience(ctx, n) // before the transaction: the directory is another service
	if err != nil {
		return notifclient.Created{}, false, err
	}
	err = s.store.Transaction(ctx, func(tx *store.Store) error {
		row, deliveries, items, err := s.plan(ctx, tx, n, hash, audience)
		if err != nil {
			return err
		}
		created = createdOf(row)
		return tx.InsertNotification(ctx, row, deliveries, items)
	})
	if err != nil {
		// A concurrent call with the same key won the race: answer as it did.
		if first, rerr := s.replay(ctx, n.Key, hash); !errors.Is(rerr, ErrNotFound) {
			return first, rerr == nil, rerr
		}
		return notifclient.Created{}, false, err
	}
	return created, false, nil
}

// bodyHash identifies a notification's content, to tell a retry from another
// notification reusing its key.
func bodyHash(n notifclient.Notification) string {
	canonical, _ := json.Marshal(n) // plain struct: cannot fail
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// replay is the first answer to key when its body had hash hash; ErrNotFound
// when key is new.
func (s *Service) replay(ctx context.Context, key, hash string) (notifclient.Created, error) {
	row, err := s.store.NotificationByKey(ctx, key)
	if err != nil {
		return notifclient.Created{}, err
	}
	if row.BodyHash != hash {
		return notifclient.Created{}, ErrKeyReused
	}
	return createdOf(row), nil
}

func createdOf(n store.Notification) notifclient.Created {
	return notifclient.Created{ID: n.ID, Key: n.Key, Event: notifclient.Event(n.Event), Recipients: n.Recipients, CreatedAt: n.CreatedAt.UTC()}
}

// plan is n as stored, with its recipients (its audience, sorted by subject), and the
// deliveries and digest items it makes, given the preferences read in tx.
func (s *Service) plan(ctx context.Context, tx *store.Store, n notifclient.Notification, hash string, audience map[string]store.User) (store.Notification, []store.OutboxRow, []store.DigestItem, error) {
	users := slices.SortedFunc(maps.Values(audience), func(a, b store.User) int { return strings.Compare(a.Sub, b.Sub) })
	subs := make([]string, len(users))
	for i, u := range users {
		subs[i] = u.Sub
	}
	prefs, err := tx.EventPreferences(ctx, string(n.Event), subs)
	if err != nil {
		return store.Notification{}, nil, nil, err
	}
	choices := make(map[string]notifclient.Channels, len(prefs))
	for _, p := range prefs {
		choices[p.Sub] = channelsOf(p)
	}
	now := s.now()
	row := store.Notification{
		ID: newID("ntf_"), Key: n.Key, BodyHash: hash, Event: string(n.Event), RequestID: n.RequestID,
		CodeRome: n.CodeRome, Org: n.Org, Title: n.Title, Text: n.Text, Link: n.Link,
		Actor: n.Actor, Recipients: subs, CreatedAt: now,
	}
	deliveries, items := s.fanOut(row.ID, users, choices, now)
	for _, addr := range slices.Compact(slices.Sorted(slices.Values(n.To.Emails))) {
		// No account, no preferences: the e-mail is the notification.
		deliveries = append(deliveries, s.newDelivery(store.ChannelEmail, store.KindNotification, row.ID, store.User{TokenEmail: addr}, now))
	}
	return row, deliveries, items, nil
}

// fanOut is what notification id makes for users, given the channels each
// chose for its event (choices; the defaults for those who never chose): on
// every channel a user wants and can be reached on, a delivery now
// (immediate) or an item of their next digest (daily).
func (s *Service) fanOut(id string, users []store.User, choices map[string]notifclient.Channels, now time.Time) ([]store.OutboxRow, []store.DigestItem) {
	var (
		deliveries []store.OutboxRow
		items      []store.DigestItem
	)
	for _, u := range users {
		c, ok := choices[u.Sub]
		if !ok {
			c = defaultChannels()
		}
		for _, channel := range store.Channels {
			if !wants(c, channel) || destination(u, channel) == "" {
				continue
			}
			if c.Frequency == notifclient.Daily {
				items = append(items, store.DigestItem{NotificationID: id, Sub: u.Sub, Channel: channel, CreatedAt: now})
			} else {
				deliveries = append(deliveries, s.newDelivery(channel, store.KindNotification, id, u, now))
			}
		}
	}
	return deliveries, items
}

// newDelivery is a delivery to u on channel, due at now. An e-mail's
// Message-ID is stable across its attempts, so that mail clients show a
// message sent twice (see delivery's duplicate window) once.
func (s *Service) newDelivery(channel, kind, notificationID string, u store.User, now time.Time) store.OutboxRow {
	row := store.OutboxRow{
		Channel: channel, Kind: kind, NotificationID: notificationID, Sub: u.Sub, ToAddr: destination(u, channel),
		Status: store.StatusPending, NextAttemptAt: now, CreatedAt: now,
	}
	if channel == store.ChannelTeams {
		row.ID = newID("teams_")
		row.MessageID = row.ID
	} else {
		row.ID = newID("mail_")
		row.MessageID = "<" + row.ID + "@" + s.cfg.MessageIDDomain + ">"
	}
	return row
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
