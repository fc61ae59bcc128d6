package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/plateforme-rome/rome/platform/database"
)

// migrationAPIClients creates the France Travail–compatible API's clients (their secrets
// hashed) and the key that signs their access tokens, shared by every replica.
func migrationAPIClients(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	return database.ExecAll(tx,
		`CREATE TABLE ref_api_clients (
			client_id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			secret_hash TEXT NOT NULL,
			created_by TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			revoked_at `+ts+`
		)`,
		`CREATE TABLE ref_token_keys (
			name TEXT PRIMARY KEY,
			secret TEXT NOT NULL
		)`)
}

// migrationClientScopes gives each API client the scopes it may ask for, space-separated.
// The clients registered before could ask for every scope: they keep them.
func migrationClientScopes(tx *gorm.DB, _ database.Dialect) error {
	return database.ExecAll(tx, `ALTER TABLE ref_api_clients ADD COLUMN scopes TEXT NOT NULL DEFAULT
		'api_rome-metiersv1 api_rome-fiches-metiersv1 api_rome-competencesv1 api_rome-contextes-travailv1 nomenclatureRome'`)
}

// migrationIdempotencyKeys records the Idempotency-Keys of the admins' creating calls:
// whose key, the hash of the call it was first used for, and what that call created.
func migrationIdempotencyKeys(tx *gorm.DB, d database.Dialect) error {
	return database.ExecAll(tx, `CREATE TABLE ref_idempotency_keys (
			scope TEXT NOT NULL,
			idem_key TEXT NOT NULL,
			body_hash TEXT NOT NULL,
			resource_id TEXT NOT NULL,
			created_at `+d.Timestamp()+` NOT NULL,
			PRIMARY KEY (scope, idem_key)
		)`)
}

// APIClient is a registered client of the France Travail–compatible API.
type APIClient struct {
	ClientID   string `gorm:"primaryKey"`
	Name       string
	Scopes     string // the scopes it may ask for, space-separated
	SecretHash string
	CreatedBy  string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (APIClient) TableName() string { return "ref_api_clients" }

// IdempotencyRecord is the first use of an Idempotency-Key: a retry with the same key and
// the same call gets what it created.
type IdempotencyRecord struct {
	Scope      string `gorm:"primaryKey"` // whose keys: the caller
	Key        string `gorm:"primaryKey;column:idem_key"`
	BodyHash   string // what the key was first used for
	ResourceID string // what that call created
	CreatedAt  time.Time
}

func (IdempotencyRecord) TableName() string { return "ref_idempotency_keys" }

// ErrKeyTaken: an Idempotency-Key is already recorded (a concurrent retry got there first).
var ErrKeyTaken = errors.New("idempotency key already recorded")

// CreateAPIClient stores a new client and, when its registration carried an
// Idempotency-Key, the key's record, in one transaction: a key already recorded is
// ErrKeyTaken and creates nothing.
func (s *Store) CreateAPIClient(ctx context.Context, c APIClient, key *IdempotencyRecord) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if key != nil {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(key)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return ErrKeyTaken
			}
		}
		return tx.Create(&c).Error
	})
}

// IdempotencyRecord reads the record of a caller's key, if any.
func (s *Store) IdempotencyRecord(ctx context.Context, scope, key string) (IdempotencyRecord, bool, error) {
	return takeOne[IdempotencyRecord](s.db.WithContext(ctx).Where("scope = ? AND idem_key = ?", scope, key))
}

// APIClient reads a client, revoked or not.
func (s *Store) APIClient(ctx context.Context, id string) (APIClient, bool, error) {
	return takeOne[APIClient](s.db.WithContext(ctx).Where("client_id = ?", id))
}

// APIClients lists every client, oldest first.
func (s *Store) APIClients(ctx context.Context) ([]APIClient, error) {
	var cs []APIClient
	err := s.db.WithContext(ctx).Order("created_at, client_id").Find(&cs).Error
	return cs, err
}

// RevokeAPIClient marks a client revoked; ok is false when it does not exist.
func (s *Store) RevokeAPIClient(ctx context.Context, id string, at time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&APIClient{}).Where("client_id = ? AND revoked_at IS NULL", id).Update("revoked_at", at)
	if res.Error != nil || res.RowsAffected > 0 {
		return res.RowsAffected > 0, res.Error
	}
	_, ok, err := s.APIClient(ctx, id)
	return ok, err
}

type tokenKey struct {
	Name   string `gorm:"primaryKey"`
	Secret string // hex
}

func (tokenKey) TableName() string { return "ref_token_keys" }

// TokenKey returns the secret named name, creating it (32 random bytes) on first use; every
// replica reads the same one.
func (s *Store) TokenKey(ctx context.Context, name string) ([]byte, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	fresh := tokenKey{Name: name, Secret: hex.EncodeToString(secret)}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error; err != nil {
		return nil, err
	}
	var k tokenKey
	if err := db.Where("name = ?", name).Take(&k).Error; err != nil {
		return nil, err
	}
	return hex.DecodeString(k.Secret)
}
