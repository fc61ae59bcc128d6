// Package database opens the service's database (PostgreSQL in production,
// a SQLite file by default) and applies versioned migrations.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/plugin/opentelemetry/tracing"

	"github.com/plateforme-rome/rome/platform/config"
)

// Dialect is the SQL dialect behind a *gorm.DB.
type Dialect string

// Supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// SlowQueryThreshold is the duration above which a query is logged.
const SlowQueryThreshold = 200 * time.Millisecond

// Open opens PostgreSQL when DATABASE_URL is set, else the SQLite file
// $ROME_STATE_DIR/<service>.db (creating the directory) with sqlitePragmas set before the
// defaults (a page size must come before WAL to apply to a new file).
func Open(ctx context.Context, service string, sqlitePragmas ...string) (*gorm.DB, Dialect, error) {
	if u := config.String("DATABASE_URL", ""); u != "" {
		return OpenURL(ctx, u)
	}
	dir := config.StateDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create state directory: %w", err)
	}
	u := "sqlite:" + filepath.Join(dir, service+".db")
	if len(sqlitePragmas) > 0 {
		u += "?" + url.Values{"_pragma": sqlitePragmas}.Encode()
	}
	return OpenURL(ctx, u)
}

// OpenURL opens the database a URL names: postgres:// or postgresql://
// (or a key=value DSN) selects PostgreSQL; sqlite:<path> or file:<path>
// selects SQLite, whose parent directory must exist.
func OpenURL(ctx context.Context, rawURL string) (*gorm.DB, Dialect, error) {
	var (
		dialector gorm.Dialector
		dialect   Dialect
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"), strings.Contains(rawURL, "host="):
		dialector, dialect = postgres.Open(rawURL), Postgres
	case strings.HasPrefix(rawURL, "sqlite:"), strings.HasPrefix(rawURL, "file:"):
		dsn, err := sqliteDSN(rawURL)
		if err != nil {
			return nil, "", err
		}
		dialector, dialect = sqlite.Open(dsn), SQLite
	default:
		return nil, "", errors.New("database URL must start with postgres://, postgresql://, sqlite: or file:")
	}

	db, err := gorm.Open(dialector, &gorm.Config{
		Logger: logger.NewSlogLogger(slog.Default(), logger.Config{
			SlowThreshold:             SlowQueryThreshold,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true, // never log values
		}),
		TranslateError: true,
	})
	if err != nil {
		return nil, "", fmt.Errorf("open %s database: %w", dialect, redact(err, rawURL))
	}
	if err := db.Use(tracing.NewPlugin(tracing.WithoutQueryVariables())); err != nil {
		return nil, "", fmt.Errorf("enable database tracing: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, "", err
	}
	switch dialect {
	case Postgres:
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	case SQLite:
		// One writer at a time anyway; a few connections serve WAL readers.
		sqlDB.SetMaxOpenConns(4)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, "", fmt.Errorf("reach %s database: %w", dialect, redact(err, rawURL))
	}
	return db, dialect, nil
}

// DialectOf tells which dialect db speaks.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// sqliteDSN turns sqlite:<path>[?query] into the driver's DSN with WAL, a busy
// timeout, foreign keys and immediate transactions (a transaction takes the
// write lock at BEGIN, so concurrent writers wait instead of failing with
// "database is locked" when they upgrade a read lock).
func sqliteDSN(rawURL string) (string, error) {
	rest := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "file:")
	rest = strings.TrimPrefix(rest, "//")
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", errors.New("sqlite URL has no file path")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("sqlite URL query: %w", err)
	}
	have := strings.Join(q["_pragma"], ",")
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		name, _, _ := strings.Cut(p, "(")
		if !strings.Contains(have, name) {
			q.Add("_pragma", p)
		}
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode(), nil
}

// redact keeps a password in the URL out of error messages.
func redact(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}
