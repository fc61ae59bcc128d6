// Package session keeps the console's server-side sessions: the browser holds an opaque
// random id in an HttpOnly cookie; the database holds only its SHA-256, with the person's
// token for the services and the session's CSRF secret.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
)

// Component names the console's migrations in schema_migrations.
const Component = "console"

// Migrations are the console's versioned schema changes.
var Migrations = []database.Migration{
	{Version: 1, Name: "server-side sessions", Up: migrationV1},
}

func migrationV1(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	return database.ExecAll(tx,
		`CREATE TABLE console_sessions (
			id_hash TEXT PRIMARY KEY,
			token TEXT NOT NULL,
			refresh_token TEXT NOT NULL,
			token_expiry `+ts+` NOT NULL,
			sub TEXT NOT NULL,
			name TEXT NOT NULL,
			role TEXT NOT NULL,
			org TEXT NOT NULL,
			csrf TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			expires_at `+ts+` NOT NULL
		)`,
		`CREATE INDEX console_sessions_expires ON console_sessions (expires_at)`,
	)
}

// Session is a signed-in person's session.
type Session struct {
	ID           string // the cookie's value; only its hash is stored
	Token        string // the bearer token the services accept
	RefreshToken string // empty when the identity provider gave none (dev sign-in)
	TokenExpiry  time.Time
	Person       auth.Principal
	CSRF         string // the synchronizer token every form of this session carries
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// row is the persistence shape of a Session.
type row struct {
	IDHash       string `gorm:"primaryKey"`
	Token        string
	RefreshToken string
	TokenExpiry  time.Time
	Sub          string
	Name         string
	Role         string
	Org          string
	CSRF         string `gorm:"column:csrf"`
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

func (row) TableName() string { return "console_sessions" }

// ErrNotFound: no live session has that id.
var ErrNotFound = errors.New("session not found")

// Store keeps sessions with GORM.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore returns a store on db; now is the clock (time.Now when nil).
func NewStore(db *gorm.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// Create starts a session for person with their token, valid until the earlier of the
// token's expiry (unless it can be refreshed) and maxAge.
func (s *Store) Create(ctx context.Context, person auth.Principal, token, refreshToken string, tokenExpiry time.Time, maxAge time.Duration) (Session, error) {
	now := s.now().UTC().Truncate(time.Second)
	sess := Session{
		ID: randomToken(), Token: token, RefreshToken: refreshToken, TokenExpiry: tokenExpiry.UTC(),
		Person: person, CSRF: randomToken(), CreatedAt: now, ExpiresAt: now.Add(maxAge),
	}
	if refreshToken == "" && sess.TokenExpiry.Before(sess.ExpiresAt) {
		sess.ExpiresAt = sess.TokenExpiry
	}
	r := toRow(sess)
	return sess, s.db.WithContext(ctx).Create(&r).Error
}

// Get returns the live session with that id.
func (s *Store) Get(ctx context.Context, id string) (Session, error) {
	var r row
	err := s.db.WithContext(ctx).Where("id_hash = ? AND expires_at > ?", hash(id), s.now().UTC()).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, err
	}
	sess := fromRow(r)
	sess.ID = id
	return sess, nil
}

// UpdateToken stores a refreshed token and what it says of the person (their role or
// organisation may have changed since they signed in).
func (s *Store) UpdateToken(ctx context.Context, id string, person auth.Principal, token, refreshToken string, expiry time.Time) error {
	return s.db.WithContext(ctx).Model(&row{}).Where("id_hash = ?", hash(id)).
		Updates(map[string]any{"token": token, "refresh_token": refreshToken, "token_expiry": expiry.UTC(),
			"name": person.Name, "role": string(person.Role), "org": person.Org}).Error
}

// Delete ends a session (sign-out); ending it twice is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Where("id_hash = ?", hash(id)).Delete(&row{}).Error
}

// DeleteExpired removes the sessions that ended, and says how many.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ?", s.now().UTC()).Delete(&row{})
	return res.RowsAffected, res.Error
}

func toRow(s Session) row {
	p := s.Person
	return row{IDHash: hash(s.ID), Token: s.Token, RefreshToken: s.RefreshToken, TokenExpiry: s.TokenExpiry,
		Sub: p.Subject, Name: p.Name, Role: string(p.Role), Org: p.Org, CSRF: s.CSRF, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
}

func fromRow(r row) Session {
	return Session{Token: r.Token, RefreshToken: r.RefreshToken, TokenExpiry: r.TokenExpiry,
		Person: auth.Principal{Subject: r.Sub, Name: r.Name, Role: auth.Role(r.Role), Org: r.Org},
		CSRF:   r.CSRF, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
