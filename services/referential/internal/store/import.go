package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/services/referential/internal/importer"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
)

// ImportOutcome says what an import did.
type ImportOutcome string

const (
	Imported        ImportOutcome = "imported"         // first release into an empty referential
	AlreadyImported ImportOutcome = "already_imported" // the same official version: nothing to do
	Replaced        ImportOutcome = "replaced"         // a different release, stored as a new version
)

// ErrOtherVersion refuses to import a different release over an existing referential
// unless replacing was asked for explicitly.
type ErrOtherVersion struct{ Current, Offered int }

func (e *ErrOtherVersion) Error() string {
	return fmt.Sprintf("the referential is at version %d; importing official version %d would replace it (ask for it explicitly with --replace)", e.Current, e.Offered)
}

// Import stores an official release. Into an empty referential it loads every row in one
// transaction; the same official version again is a no-op; another version is refused
// unless replace is set, and then becomes a new version whose delta is the row diff.
func (s *Store) Import(ctx context.Context, rel *importer.Release, replace bool) (ImportOutcome, int, error) {
	latest, err := s.Latest(ctx)
	switch {
	case errors.Is(err, ErrNoVersion):
		return Imported, rel.Info.Number, s.importFirst(ctx, rel)
	case err != nil:
		return "", 0, err
	}
	var same int64
	if err := s.db.WithContext(ctx).Model(&VersionRecord{}).
		Where("source = ? AND number = ? AND label = ?", SourceImport, rel.Info.Number, rel.Info.Label).Count(&same).Error; err != nil {
		return "", 0, err
	}
	if same > 0 && (!replace || latest.Number == rel.Info.Number) {
		return AlreadyImported, latest.Number, nil
	}
	if !replace {
		return "", 0, &ErrOtherVersion{Current: latest.Number, Offered: rel.Info.Number}
	}
	current, err := s.Load(ctx, latest.Number)
	if err != nil {
		return "", 0, err
	}
	n := max(rel.Info.Number, latest.Number+1)
	err = s.Publish(ctx, Publication{
		Version: VersionRecord{Number: n, Label: rel.Info.Label, Source: SourceImport, PublishedAt: rel.Info.PublishedAt,
			LastModified: time.Now().UTC(), VersionFile: rel.Info.Raw},
		Rows: refdata.Diff(current, rel.Snapshot),
	})
	return Replaced, n, err
}

func (s *Store) importFirst(ctx context.Context, rel *importer.Release) error {
	n := rel.Info.Number
	v := VersionRecord{Number: n, Label: rel.Info.Label, Source: SourceImport, PublishedAt: rel.Info.PublishedAt,
		LastModified: rel.Info.PublishedAt, VersionFile: rel.Info.Raw}
	if s.isPostgres() {
		return s.withPgx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO ref_versions (number, label, source, published_at, last_modified, version_file) VALUES ($1,$2,$3,$4,$5,$6)`,
				v.Number, v.Label, v.Source, v.PublishedAt, v.LastModified, v.VersionFile); err != nil {
				return err
			}
			exec := func(stmt string) error { _, err := tx.Exec(ctx, stmt); return err }
			return loadUnindexed(exec, true, func() error { return copyRowsPostgres(ctx, tx, n, rel.Snapshot) })
		})
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := insertVersion(tx, v); err != nil {
			return err
		}
		exec := func(stmt string) error { return tx.Exec(stmt).Error }
		// SQLite cannot drop a primary key: only the secondary indexes wait.
		return loadUnindexed(exec, false, func() error { return bulkInsertSQLite(ctx, tx, n, rel.Snapshot) })
	})
}

// loadUnindexed runs a bulk load with the indexes of ref_rows dropped, then builds them
// once: several times faster than maintaining them row by row. It runs inside the
// import's transaction, so no reader ever sees the table without them.
func loadUnindexed(exec func(string) error, primaryKey bool, load func() error) error {
	drop := []string{`DROP INDEX ref_rows_current`, `DROP INDEX ref_rows_from`}
	build := []string{refRowsCurrentIndex, refRowsFromIndex}
	if primaryKey {
		drop = append(drop, `ALTER TABLE ref_rows DROP CONSTRAINT ref_rows_pkey`)
		build = append(build, `ALTER TABLE ref_rows ADD PRIMARY KEY (dataset, row_key, valid_from)`)
	}
	for _, stmt := range drop {
		if err := exec(stmt); err != nil {
			return err
		}
	}
	if err := load(); err != nil {
		return err
	}
	for _, stmt := range build {
		if err := exec(stmt); err != nil {
			return err
		}
	}
	return nil
}
