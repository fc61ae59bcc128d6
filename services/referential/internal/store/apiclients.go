package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// APIClient is a registered client of the France Travail–compatible API.
type APIClient struct {
	ClientID   string `gorm:"primaryKey"`
	Name       string
	SecretHash string
	CreatedBy  string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (APIClient) TableName() string { return "ref_api_clients" }

// CreateAPIClient stores a new client.
func (s *Store) CreateAPIClient(ctx context.Context, c APIClient) error {
	return s.db.WithContext(ctx).Create(&c).Error
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
