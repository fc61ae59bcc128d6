package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/plateforme-rome/rome/clients/notifclient"
)

// Errors the API maps to problems.
var (
	// ErrNotFound: absent, or not the caller's.
	ErrNotFound = errors.New("not found")
	// ErrKeyReused: a notification key already names another notification.
	ErrKeyReused = errors.New("notification key reused with another body")
	// ErrNotDead: the outbox row is not in the dead-letter list.
	ErrNotDead = errors.New("not a dead letter")
	// ErrBadCursor: the cursor was not issued by the listing.
	ErrBadCursor = errors.New("invalid cursor")
)

// Outbox statuses.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusDead    = "dead"
)

// Outbox kinds: one notification, or a daily digest.
const (
	KindNotification = "notification"
	KindDigest       = "digest"
)

// Delivery channels of the outbox. The service sends e-mails itself; Teams
// activity-feed notifications are claimed and sent by the worker.
const (
	ChannelEmail = "email"
	ChannelTeams = "teams"
)

// Channels lists the delivery channels.
var Channels = []string{ChannelEmail, ChannelTeams}

// Store is the service's repository.
type Store struct {
	db     *gorm.DB
	domain string
	now    func() time.Time
}

// New returns a store on db. domain completes the outbox's Message-IDs
// (<id@domain>), usually the domain of the sender address.
func New(db *gorm.DB, domain string) *Store {
	// Times are kept to the microsecond, as PostgreSQL stores them, so that a
	// replayed answer equals the first one.
	return &Store{db: db, domain: domain, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// User is a person the service has seen on its API.
type User struct {
	Sub        string    `gorm:"column:sub;primaryKey"`
	Name       string    `gorm:"column:name"`
	Role       string    `gorm:"column:role"`
	Org        string    `gorm:"column:org"`
	TokenEmail string    `gorm:"column:token_email"`
	PrefEmail  string    `gorm:"column:pref_email"`
	EntraID    string    `gorm:"column:entra_id"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

func (User) TableName() string { return "users" }

// Address is where the user's e-mails go: the address of their
// preferences, else their token's.
func (u User) Address() string {
	if u.PrefEmail != "" {
		return u.PrefEmail
	}
	return u.TokenEmail
}

// destination is where the user's deliveries on channel go (their e-mail
// address, or their Entra object id for Teams); empty when the user cannot
// be reached there.
func (u User) destination(channel string) string {
	if channel == ChannelTeams {
		return u.EntraID
	}
	return u.Address()
}

type preference struct {
	Sub       string `gorm:"column:sub;primaryKey"`
	Event     string `gorm:"column:event;primaryKey"`
	Email     bool   `gorm:"column:email"`
	Teams     bool   `gorm:"column:teams"`
	Frequency string `gorm:"column:frequency"`
}

func (preference) TableName() string { return "preferences" }

type follow struct {
	Sub       string    `gorm:"column:sub;primaryKey"`
	Kind      string    `gorm:"column:kind;primaryKey"`
	Target    string    `gorm:"column:target;primaryKey"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (follow) TableName() string { return "follows" }

// Notification is a stored notification.
type Notification struct {
	ID         string    `gorm:"column:id;primaryKey"`
	Key        string    `gorm:"column:idem_key"`
	BodyHash   string    `gorm:"column:body_hash"`
	Event      string    `gorm:"column:event"`
	RequestID  string    `gorm:"column:request_id"`
	CodeRome   string    `gorm:"column:code_rome"`
	Org        string    `gorm:"column:org"`
	Title      string    `gorm:"column:title"`
	Text       string    `gorm:"column:text"`
	Link       string    `gorm:"column:link"`
	Actor      string    `gorm:"column:actor"`
	Recipients string    `gorm:"column:recipients"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (Notification) TableName() string { return "notifications" }

type inboxRow struct {
	Seq            int64      `gorm:"column:seq;primaryKey;autoIncrement"`
	Sub            string     `gorm:"column:sub"`
	NotificationID string     `gorm:"column:notification_id"`
	ReadAt         *time.Time `gorm:"column:read_at"`
}

func (inboxRow) TableName() string { return "inbox" }

// OutboxRow is one delivery to make: an e-mail, or a Teams activity-feed
// notification. ToAddr is the e-mail address, or the Entra object id of the
// Teams recipient. MessageID is the e-mail's Message-ID header; a Teams row
// has none and repeats its id there (the column is unique and required).
type OutboxRow struct {
	Seq            int64      `gorm:"column:seq;primaryKey;autoIncrement"`
	ID             string     `gorm:"column:id"`
	MessageID      string     `gorm:"column:message_id"`
	Channel        string     `gorm:"column:channel"`
	Kind           string     `gorm:"column:kind"`
	NotificationID string     `gorm:"column:notification_id"`
	Sub            string     `gorm:"column:sub"`
	ToAddr         string     `gorm:"column:to_addr"`
	Status         string     `gorm:"column:status"`
	Attempts       int        `gorm:"column:attempts"`
	NextAttemptAt  time.Time  `gorm:"column:next_attempt_at"`
	LeaseOwner     string     `gorm:"column:lease_owner"`
	LeaseUntil     *time.Time `gorm:"column:lease_until"`
	LastError      string     `gorm:"column:last_error"`
	SentAt         *time.Time `gorm:"column:sent_at"`
	DeadAt         *time.Time `gorm:"column:dead_at"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
}

func (OutboxRow) TableName() string { return "outbox" }

type digestItem struct {
	NotificationID string    `gorm:"column:notification_id;primaryKey"`
	Sub            string    `gorm:"column:sub;primaryKey"`
	Channel        string    `gorm:"column:channel;primaryKey"`
	OutboxID       string    `gorm:"column:outbox_id"`
	CreatedAt      time.Time `gorm:"column:created_at"`
}

func (digestItem) TableName() string { return "digest_items" }

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (s *Store) newOutbox(channel, kind, notificationID string, u User, now time.Time) OutboxRow {
	row := OutboxRow{
		Channel: channel, Kind: kind, NotificationID: notificationID, Sub: u.Sub, ToAddr: u.destination(channel),
		Status: StatusPending, NextAttemptAt: now, CreatedAt: now,
	}
	if channel == ChannelTeams {
		row.ID = newID("teams_")
		row.MessageID = row.ID
	} else {
		row.ID = newID("mail_")
		row.MessageID = "<" + row.ID + "@" + s.domain + ">"
	}
	return row
}

// TouchUser records or refreshes a user seen on the API: what its token
// says (e-mail, Entra object id) replaces what was stored; the preferences'
// address is kept.
func (s *Store) TouchUser(ctx context.Context, u User) error {
	u.UpdatedAt = s.now()
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "sub"}},
		DoUpdates: clause.AssignmentColumns([]string{"name", "role", "org", "token_email", "entra_id", "updated_at"}),
	}).Create(&u).Error
}

// User returns a known user.
func (s *Store) User(ctx context.Context, sub string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("sub = ?", sub).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, ErrNotFound
	}
	return u, err
}

// Users lists the people the service knows, by subject, limit at most, after the page
// whose NextCursor is cursor (empty: from the first). A cursor Users did not issue is
// ErrBadCursor.
func (s *Store) Users(ctx context.Context, limit int, cursor string) (notifclient.Users, error) {
	q := s.db.WithContext(ctx).Model(&User{})
	if cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(after) == 0 {
			return notifclient.Users{}, ErrBadCursor
		}
		q = q.Where("sub > ?", string(after))
	}
	var rows []User
	if err := q.Order("sub").Limit(limit + 1).Find(&rows).Error; err != nil {
		return notifclient.Users{}, err
	}
	out := notifclient.Users{Items: make([]notifclient.User, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(rows[limit-1].Sub))
	}
	for _, u := range rows {
		out.Items = append(out.Items, notifclient.User{
			Sub: u.Sub, Name: u.Name, Role: u.Role, Org: u.Org, Email: u.Address(), HasEntraID: u.EntraID != "",
			LastSeenAt: u.UpdatedAt.UTC(),
		})
	}
	return out, nil
}

// defaultChannels are the settings of an event a user never changed: in-app
// and e-mail at once. Teams activity-feed notifications are opt-in, so that
// nobody gets every notification twice (mail and feed) without asking.
func defaultChannels() notifclient.Channels {
	return notifclient.Channels{InApp: true, Email: true, Teams: false, Frequency: notifclient.Immediate}
}

// wants tells whether the choices c ask for deliveries on channel.
func wants(c notifclient.Channels, channel string) bool {
	if channel == ChannelTeams {
		return c.Teams
	}
	return c.Email
}

func (p preference) channels() notifclient.Channels {
	return notifclient.Channels{InApp: true, Email: p.Email, Teams: p.Teams, Frequency: notifclient.Frequency(p.Frequency)}
}

// Preferences returns a user's settings for every event.
func (s *Store) Preferences(ctx context.Context, sub string) (notifclient.Preferences, error) {
	return preferencesOf(s.db.WithContext(ctx), sub)
}

func preferencesOf(db *gorm.DB, sub string) (notifclient.Preferences, error) {
	var rows []preference
	if err := db.Where("sub = ?", sub).Find(&rows).Error; err != nil {
		return notifclient.Preferences{}, err
	}
	var u User
	if err := db.Where("sub = ?", sub).Limit(1).Find(&u).Error; err != nil {
		return notifclient.Preferences{}, err
	}
	p := notifclient.Preferences{Email: u.PrefEmail, Events: map[notifclient.Event]notifclient.Channels{}}
	for _, e := range notifclient.Events {
		p.Events[e] = defaultChannels()
	}
	for _, r := range rows {
		p.Events[notifclient.Event(r.Event)] = r.channels()
	}
	return p, nil
}

// SetPreferences stores the events p lists (the others keep their settings)
// and the e-mail address override, for a known user.
func (s *Store) SetPreferences(ctx context.Context, sub string, p notifclient.Preferences) (notifclient.Preferences, error) {
	var out notifclient.Preferences
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("sub = ?", sub).Update("pref_email", p.Email)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		for e, c := range p.Events {
			row := preference{Sub: sub, Event: string(e), Email: c.Email, Teams: c.Teams, Frequency: string(c.Frequency)}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
				return err
			}
		}
		var err error
		out, err = preferencesOf(tx, sub)
		return err
	})
	return out, err
}

// Follow kinds.
const (
	FollowRequest = "request"
	FollowFiche   = "fiche"
)

func followTarget(f notifclient.Follow) (kind, target string) {
	if f.RequestID != "" {
		return FollowRequest, f.RequestID
	}
	return FollowFiche, f.CodeRome
}

func (f follow) api() notifclient.Follow {
	at := f.CreatedAt
	out := notifclient.Follow{CreatedAt: &at}
	if f.Kind == FollowRequest {
		out.RequestID = f.Target
	} else {
		out.CodeRome = f.Target
	}
	return out
}

// Follow makes sub follow a request or a fiche; following it again changes
// nothing. created tells whether the follow is new.
func (s *Store) Follow(ctx context.Context, sub string, f notifclient.Follow) (notifclient.Follow, bool, error) {
	kind, target := followTarget(f)
	row := follow{Sub: sub, Kind: kind, Target: target, CreatedAt: s.now()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return notifclient.Follow{}, false, res.Error
	}
	if err := s.db.WithContext(ctx).Where("sub = ? AND kind = ? AND target = ?", sub, kind, target).Take(&row).Error; err != nil {
		return notifclient.Follow{}, false, err
	}
	return row.api(), res.RowsAffected == 1, nil
}

// Unfollow stops a follow; an absent one is ErrNotFound.
func (s *Store) Unfollow(ctx context.Context, sub string, f notifclient.Follow) error {
	kind, target := followTarget(f)
	res := s.db.WithContext(ctx).Where("sub = ? AND kind = ? AND target = ?", sub, kind, target).Delete(&follow{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Follows lists what sub follows, oldest first.
func (s *Store) Follows(ctx context.Context, sub string) ([]notifclient.Follow, error) {
	var rows []follow
	if err := s.db.WithContext(ctx).Where("sub = ?", sub).Order("created_at, kind, target").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]notifclient.Follow, len(rows))
	for i, r := range rows {
		out[i] = r.api()
	}
	return out, nil
}

// Create stores a notification with its recipients' inbox rows, deliveries
// (outbox) and digest items, in one transaction. The same key with the same
// bodyHash returns the stored answer (replayed true); with another hash,
// ErrKeyReused.
func (s *Store) Create(ctx context.Context, n notifclient.Notification, bodyHash string) (notifclient.Created, bool, error) {
	db := s.db.WithContext(ctx)
	if created, err := s.replay(db, n.Key, bodyHash); !errors.Is(err, ErrNotFound) {
		return created, err == nil, err
	}
	var out notifclient.Created
	err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		out, err = s.create(tx, n, bodyHash)
		return err
	})
	if err != nil {
		// A concurrent call with the same key won the race: answer as it did.
		if created, rerr := s.replay(db, n.Key, bodyHash); !errors.Is(rerr, ErrNotFound) {
			return created, rerr == nil, rerr
		}
		return notifclient.Created{}, false, err
	}
	return out, false, nil
}

func (s *Store) replay(db *gorm.DB, key, bodyHash string) (notifclient.Created, error) {
	var row Notification
	err := db.Where("idem_key = ?", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notifclient.Created{}, ErrNotFound
	}
	if err != nil {
		return notifclient.Created{}, err
	}
	if row.BodyHash != bodyHash {
		return notifclient.Created{}, ErrKeyReused
	}
	return row.created()
}

func (n Notification) created() (notifclient.Created, error) {
	out := notifclient.Created{ID: n.ID, Key: n.Key, Event: notifclient.Event(n.Event), CreatedAt: n.CreatedAt.UTC()}
	return out, json.Unmarshal([]byte(n.Recipients), &out.Recipients)
}

func (s *Store) create(tx *gorm.DB, n notifclient.Notification, bodyHash string) (notifclient.Created, error) {
	users, err := recipients(tx, n)
	if err != nil {
		return notifclient.Created{}, err
	}
	subs := make([]string, len(users))
	for i, u := range users {
		subs[i] = u.Sub
	}
	actor, _ := json.Marshal(n.Actor)
	recips, _ := json.Marshal(subs)
	now := s.now()
	row := Notification{
		ID: newID("ntf_"), Key: n.Key, BodyHash: bodyHash, Event: string(n.Event), RequestID: n.RequestID,
		CodeRome: n.CodeRome, Org: n.Org, Title: n.Title, Text: n.Text, Link: n.Link,
		Actor: string(actor), Recipients: string(recips), CreatedAt: now,
	}
	if err := tx.Create(&row).Error; err != nil {
		return notifclient.Created{}, err
	}
	var prefs []preference
	if err := tx.Where("event = ? AND sub IN ?", string(n.Event), append(subs, "")).Find(&prefs).Error; err != nil {
		return notifclient.Created{}, err
	}
	channels := map[string]notifclient.Channels{}
	for _, p := range prefs {
		channels[p.Sub] = p.channels()
	}
	for _, u := range users {
		if err := tx.Create(&inboxRow{Sub: u.Sub, NotificationID: row.ID}).Error; err != nil {
			return notifclient.Created{}, err
		}
		c, ok := channels[u.Sub]
		if !ok {
			c = defaultChannels()
		}
		for _, channel := range Channels {
			if !wants(c, channel) || u.destination(channel) == "" {
				continue
			}
			if c.Frequency == notifclient.Daily {
				err = tx.Create(&digestItem{NotificationID: row.ID, Sub: u.Sub, Channel: channel, CreatedAt: now}).Error
			} else {
				delivery := s.newOutbox(channel, KindNotification, row.ID, u, now)
				err = tx.Create(&delivery).Error
			}
			if err != nil {
				return notifclient.Created{}, err
			}
		}
	}
	return row.created()
}

// recipients resolves who gets n: the named users, the known users holding
// one of its roles or belonging to one of its organisations, and the
// followers of its request or fiche (a partner follower only for its own
// organisation's requests), minus the excluded users; sorted by subject.
// Named users the service has not seen yet get an inbox row and no delivery.
func recipients(tx *gorm.DB, n notifclient.Notification) ([]User, error) {
	found := map[string]User{}
	for _, sub := range n.To.Users {
		found[sub] = User{Sub: sub}
	}
	var known []User
	q := tx.Where("sub IN ?", append(slices.Clone(n.To.Users), ""))
	if len(n.To.Roles) > 0 {
		q = q.Or("role IN ?", n.To.Roles)
	}
	if len(n.To.Orgs) > 0 {
		q = q.Or("role = ? AND org IN ?", "partner", n.To.Orgs)
	}
	if err := q.Find(&known).Error; err != nil {
		return nil, err
	}
	for _, u := range known {
		found[u.Sub] = u
	}
	var followers []User
	if n.RequestID != "" || n.CodeRome != "" {
		err := tx.Table("follows").Select("users.*").
			Joins("JOIN users ON users.sub = follows.sub").
			Where("(follows.kind = ? AND follows.target = ?) OR (follows.kind = ? AND follows.target = ?)",
				FollowRequest, n.RequestID, FollowFiche, n.CodeRome).
			Find(&followers).Error
		if err != nil {
			return nil, err
		}
	}
	for _, u := range followers {
		if u.Role == "partner" && n.Org != "" && u.Org != n.Org {
			continue
		}
		found[u.Sub] = u
	}
	for _, sub := range n.ExcludeUsers {
		delete(found, sub)
	}
	out := make([]User, 0, len(found))
	for _, u := range found {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int {
		switch {
		case a.Sub < b.Sub:
			return -1
		case a.Sub > b.Sub:
			return 1
		}
		return 0
	})
	return out, nil
}

// Inbox returns a page of sub's notifications, newest first, and the number
// of unread ones. cursor is the previous page's NextCursor.
func (s *Store) Inbox(ctx context.Context, sub string, limit int, cursor int64) (notifclient.Inbox, error) {
	db := s.db.WithContext(ctx)
	var rows []struct {
		Seq    int64      `gorm:"column:seq"`
		ReadAt *time.Time `gorm:"column:read_at"`
		Notification
	}
	q := db.Table("inbox").Select("inbox.seq, inbox.read_at, notifications.*").
		Joins("JOIN notifications ON notifications.id = inbox.notification_id").
		Where("inbox.sub = ?", sub)
	if cursor > 0 {
		q = q.Where("inbox.seq < ?", cursor)
	}
	if err := q.Order("inbox.seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return notifclient.Inbox{}, err
	}
	out := notifclient.Inbox{Items: []notifclient.InboxItem{}}
	if err := db.Model(&inboxRow{}).Where("sub = ? AND read_at IS NULL", sub).Count(&out.UnreadCount).Error; err != nil {
		return notifclient.Inbox{}, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = strconv.FormatInt(rows[limit-1].Seq, 10)
	}
	for _, r := range rows {
		item := notifclient.InboxItem{
			ID: r.ID, Event: notifclient.Event(r.Event), RequestID: r.RequestID, CodeRome: r.CodeRome,
			Title: r.Title, Text: r.Text, Link: r.Link, CreatedAt: r.CreatedAt.UTC(), Read: r.ReadAt != nil, ReadAt: r.ReadAt,
		}
		if err := json.Unmarshal([]byte(r.Actor), &item.Actor); err != nil {
			return notifclient.Inbox{}, err
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// MarkRead marks a notification of sub's inbox read (again: no change). A
// notification not in sub's inbox is ErrNotFound.
func (s *Store) MarkRead(ctx context.Context, sub, id string) error {
	db := s.db.WithContext(ctx)
	var row inboxRow
	err := db.Where("sub = ? AND notification_id = ?", sub, id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if err != nil || row.ReadAt != nil {
		return err
	}
	return db.Model(&inboxRow{}).Where("seq = ? AND read_at IS NULL", row.Seq).Update("read_at", s.now()).Error
}

// Notification returns a stored notification.
func (s *Store) Notification(ctx context.Context, id string) (Notification, error) {
	var n Notification
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return n, ErrNotFound
	}
	return n, err
}
