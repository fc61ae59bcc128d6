package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/plateforme-rome/rome/platform/database"

	"github.com/plateforme-rome/rome/clients/notifclient"
)

// Errors of the store's queries.
var (
	// ErrNotFound: no such row (or not the caller's).
	ErrNotFound = errors.New("not found")
	// ErrNotDead: the outbox row is not in the dead-letter list.
	ErrNotDead = errors.New("not a dead letter")
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

// Follow kinds.
const (
	FollowRequest = "request"
	FollowFiche   = "fiche"
)

// Store is the service's repository: queries and transactions, no rules. Its
// methods run in the transaction of the Store that Transaction hands out.
type Store struct {
	db *gorm.DB
}

// New returns a store on db.
func New(db *gorm.DB) *Store {
	return &Store{db: db}
}

// Transaction runs fn with a store whose every query belongs to one
// transaction, committed when fn returns nil and rolled back otherwise.
func (s *Store) Transaction(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx})
	})
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

// Preference is a user's choice of channels for one event.
type Preference struct {
	Sub       string `gorm:"column:sub;primaryKey"`
	Event     string `gorm:"column:event;primaryKey"`
	Email     bool   `gorm:"column:email"`
	Teams     bool   `gorm:"column:teams"`
	Frequency string `gorm:"column:frequency"`
}

func (Preference) TableName() string { return "preferences" }

// Follow is a request (Kind FollowRequest, Target its id) or a fiche
// (FollowFiche, its code ROME) a user follows.
type Follow struct {
	Sub       string    `gorm:"column:sub;primaryKey"`
	Kind      string    `gorm:"column:kind;primaryKey"`
	Target    string    `gorm:"column:target;primaryKey"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (Follow) TableName() string { return "follows" }

// Notification is a stored notification. Key and BodyHash make its creation
// idempotent; Recipients are the subjects whose inbox holds it.
type Notification struct {
	ID         string            `gorm:"column:id;primaryKey"`
	Key        string            `gorm:"column:idem_key"`
	BodyHash   string            `gorm:"column:body_hash"`
	Event      string            `gorm:"column:event"`
	RequestID  string            `gorm:"column:request_id"`
	CodeRome   string            `gorm:"column:code_rome"`
	Org        string            `gorm:"column:org"`
	Title      string            `gorm:"column:title"`
	Text       string            `gorm:"column:text"`
	Link       string            `gorm:"column:link"`
	Actor      notifclient.Actor `gorm:"column:actor;serializer:json"`
	Recipients []string          `gorm:"column:recipients;serializer:json"`
	CreatedAt  time.Time         `gorm:"column:created_at"`
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

// DigestItem is a notification waiting for a user's digest on a channel
// (OutboxID empty), or gathered in the digest delivery OutboxID.
type DigestItem struct {
	NotificationID string    `gorm:"column:notification_id;primaryKey"`
	Sub            string    `gorm:"column:sub;primaryKey"`
	Channel        string    `gorm:"column:channel;primaryKey"`
	OutboxID       string    `gorm:"column:outbox_id"`
	CreatedAt      time.Time `gorm:"column:created_at"`
}

func (DigestItem) TableName() string { return "digest_items" }

// UpsertUser records a user, or refreshes a known one with everything u says
// but the preferences' address, which only SetPreferenceEmail changes.
func (s *Store) UpsertUser(ctx context.Context, u User) error {
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

// UsersBySub returns the known users among subs.
func (s *Store) UsersBySub(ctx context.Context, subs []string) ([]User, error) {
	cond, arg := database.InValues(database.DialectOf(s.db), "sub", subs)
	return s.usersWhere(ctx, len(subs), cond, arg)
}

// UsersByRole returns the known users holding one of roles.
func (s *Store) UsersByRole(ctx context.Context, roles []string) ([]User, error) {
	return s.usersWhere(ctx, len(roles), "role IN ?", roles)
}

// Members returns the known users of role who belong to one of orgs.
func (s *Store) Members(ctx context.Context, role string, orgs []string) ([]User, error) {
	return s.usersWhere(ctx, len(orgs), "role = ? AND org IN ?", role, orgs)
}

// usersWhere selects users by a condition over a list of n values; none
// selects nobody (an empty IN list is not SQL).
func (s *Store) usersWhere(ctx context.Context, n int, cond string, args ...any) ([]User, error) {
	if n == 0 {
		return nil, nil
	}
	var users []User
	return users, s.db.WithContext(ctx).Where(cond, args...).Find(&users).Error
}

// Followers returns the known users who follow the request requestID or the
// fiche codeRome (no follow has an empty target).
func (s *Store) Followers(ctx context.Context, requestID, codeRome string) ([]User, error) {
	if requestID == "" && codeRome == "" {
		return nil, nil
	}
	var users []User
	err := s.db.WithContext(ctx).Table("follows").Select("users.*").
		Joins("JOIN users ON users.sub = follows.sub").
		Where("(follows.kind = ? AND follows.target = ?) OR (follows.kind = ? AND follows.target = ?)",
			FollowRequest, requestID, FollowFiche, codeRome).
		Find(&users).Error
	return users, err
}

// FollowerCounts counts, per fiche among codes, the known users who follow
// it; a fiche nobody follows is absent.
func (s *Store) FollowerCounts(ctx context.Context, codes []string) (map[string]int, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	var rows []struct {
		Target    string `gorm:"column:target"`
		Followers int    `gorm:"column:followers"`
	}
	err := s.db.WithContext(ctx).Table("follows").Select("follows.target, COUNT(DISTINCT follows.sub) AS followers").
		Joins("JOIN users ON users.sub = follows.sub").
		Where("follows.kind = ? AND follows.target IN ?", FollowFiche, codes).
		Group("follows.target").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(rows))
	for _, r := range rows {
		counts[r.Target] = r.Followers
	}
	return counts, nil
}

// UsersAfter returns up to limit known users whose subject follows after (all
// from the first when empty), by subject, and whether more follow them.
func (s *Store) UsersAfter(ctx context.Context, after string, limit int) ([]User, bool, error) {
	q := s.db.WithContext(ctx).Model(&User{})
	if after != "" {
		q = q.Where("sub > ?", after)
	}
	var users []User
	if err := q.Order("sub").Limit(limit + 1).Find(&users).Error; err != nil {
		return nil, false, err
	}
	if len(users) > limit {
		return users[:limit], true, nil
	}
	return users, false, nil
}

// Preferences returns the events whose channels sub chose.
func (s *Store) Preferences(ctx context.Context, sub string) ([]Preference, error) {
	var rows []Preference
	return rows, s.db.WithContext(ctx).Where("sub = ?", sub).Find(&rows).Error
}

// EventPreferences returns the choices of subs for event (of those who made one).
func (s *Store) EventPreferences(ctx context.Context, event string, subs []string) ([]Preference, error) {
	if len(subs) == 0 {
		return nil, nil
	}
	var rows []Preference
	cond, arg := database.InValues(database.DialectOf(s.db), "sub", subs)
	return rows, s.db.WithContext(ctx).Where("event = ?", event).Where(cond, arg).Find(&rows).Error
}

// SetPreferenceEmail sets the address of a known user's preferences (empty:
// none); an unknown user is ErrNotFound.
func (s *Store) SetPreferenceEmail(ctx context.Context, sub, email string) error {
	res := s.db.WithContext(ctx).Model(&User{}).Where("sub = ?", sub).Update("pref_email", email)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// SavePreferences records choices, replacing those of the same user and event.
func (s *Store) SavePreferences(ctx context.Context, rows []Preference) error {
	if len(rows) == 0 {
		return nil
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&rows).Error
}

// AddFollow records f unless its user already follows its target, and returns
// the stored follow; created tells whether it is new.
func (s *Store) AddFollow(ctx context.Context, f Follow) (stored Follow, created bool, err error) {
	db := s.db.WithContext(ctx)
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&f)
	if res.Error != nil {
		return Follow{}, false, res.Error
	}
	err = db.Where("sub = ? AND kind = ? AND target = ?", f.Sub, f.Kind, f.Target).Take(&stored).Error
	return stored, res.RowsAffected == 1, err
}

// RemoveFollow deletes a follow; an absent one is ErrNotFound.
func (s *Store) RemoveFollow(ctx context.Context, sub, kind, target string) error {
	res := s.db.WithContext(ctx).Where("sub = ? AND kind = ? AND target = ?", sub, kind, target).Delete(&Follow{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Follows lists what sub follows, oldest first.
func (s *Store) Follows(ctx context.Context, sub string) ([]Follow, error) {
	var rows []Follow
	return rows, s.db.WithContext(ctx).Where("sub = ?", sub).Order("created_at, kind, target").Find(&rows).Error
}

// InsertNotification stores n with an inbox row for each of its recipients,
// its deliveries and its digest items, in one transaction. A key already
// stored fails on the key's unique index.
func (s *Store) InsertNotification(ctx context.Context, n Notification, deliveries []OutboxRow, items []DigestItem) error {
	return s.Transaction(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if err := db.Create(&n).Error; err != nil {
			return err
		}
		inbox := make([]inboxRow, len(n.Recipients))
		for i, sub := range n.Recipients {
			inbox[i] = inboxRow{Sub: sub, NotificationID: n.ID}
		}
		if err := createAll(db, inbox); err != nil {
			return err
		}
		if err := createAll(db, deliveries); err != nil {
			return err
		}
		return createAll(db, items)
	})
}

// insertBatch is how many rows one INSERT writes: the SQLite driver binds a statement's
// parameters in time quadratic in their number, so a notification to 500 people is written
// faster in batches of this size than in one statement (BENCHMARKS.md).
const insertBatch = 50

// createAll inserts rows (none: nothing), insertBatch at a time.
func createAll[T any](db *gorm.DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	return db.CreateInBatches(&rows, insertBatch).Error
}

// NotificationByKey returns the notification created with key.
func (s *Store) NotificationByKey(ctx context.Context, key string) (Notification, error) {
	return s.notificationWhere(ctx, "idem_key = ?", key)
}

// Notification returns a stored notification.
func (s *Store) Notification(ctx context.Context, id string) (Notification, error) {
	return s.notificationWhere(ctx, "id = ?", id)
}

func (s *Store) notificationWhere(ctx context.Context, cond string, arg string) (Notification, error) {
	var n Notification
	err := s.db.WithContext(ctx).Where(cond, arg).Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return n, ErrNotFound
	}
	return n, err
}

// InboxEntry is a notification in a user's inbox.
type InboxEntry struct {
	Seq    int64      `gorm:"column:seq"`
	ReadAt *time.Time `gorm:"column:read_at"`
	Notification
}

// Inbox returns up to limit entries of sub's inbox older than the entry
// before (all from the newest when 0), newest first, and whether older ones
// follow.
func (s *Store) Inbox(ctx context.Context, sub string, limit int, before int64) ([]InboxEntry, bool, error) {
	q := s.db.WithContext(ctx).Table("inbox").Select("inbox.seq, inbox.read_at, notifications.*").
		Joins("JOIN notifications ON notifications.id = inbox.notification_id").
		Where("inbox.sub = ?", sub)
	if before > 0 {
		q = q.Where("inbox.seq < ?", before)
	}
	var rows []InboxEntry
	if err := q.Order("inbox.seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// UnreadCount counts the notifications of sub's inbox not read yet.
func (s *Store) UnreadCount(ctx context.Context, sub string) (int64, error) {
	var n int64
	return n, s.db.WithContext(ctx).Model(&inboxRow{}).Where("sub = ? AND read_at IS NULL", sub).Count(&n).Error
}

// MarkRead records that sub read the notification id at at, unless already
// read. A notification not in sub's inbox is ErrNotFound.
func (s *Store) MarkRead(ctx context.Context, sub, id string, at time.Time) error {
	db := s.db.WithContext(ctx)
	var row inboxRow
	err := db.Where("sub = ? AND notification_id = ?", sub, id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if err != nil || row.ReadAt != nil {
		return err
	}
	return db.Model(&inboxRow{}).Where("seq = ? AND read_at IS NULL", row.Seq).Update("read_at", at).Error
}

// EachNotification calls fn with every stored notification, a page at a time, by id.
func (s *Store) EachNotification(ctx context.Context, fn func(Notification) error) error {
	const page = 500
	after := ""
	for {
		var rows []Notification
		if err := s.db.WithContext(ctx).Where("id > ?", after).Order("id").Limit(page).Find(&rows).Error; err != nil {
			return err
		}
		for _, n := range rows {
			if err := fn(n); err != nil {
				return err
			}
			after = n.ID
		}
		if len(rows) < page {
			return nil
		}
	}
}
