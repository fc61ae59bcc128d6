package devstack

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// checkPostgres connects once, so a stopped server or a wrong DSN is reported before
// anything is built or started.
func checkPostgres(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		return fmt.Errorf("PostgreSQL at DATABASE_URL (%s) is not reachable: %w\n"+
			"Start PostgreSQL, fix DATABASE_URL, or leave DATABASE_URL empty to use SQLite files", redactDSN(dsn), err)
	}
	return nil
}

// redactDSN hides the password of a URL-style DSN; key=value DSNs are not echoed at all.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(key=value DSN)"
	}
	return u.Redacted()
}
