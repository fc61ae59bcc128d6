package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/services/referential/internal/importer"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
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

// Import stores an official release already read. Into an empty referential it loads
// every row in one transaction; the same official version again is a no-op; another
// version is refused unless replace is set, and then becomes a new version whose delta is
// the row diff.
func (s *Store) Import(ctx context.Context, rel *importer.Release, replace bool) (ImportOutcome, int, error) {
	return s.importRelease(ctx, replace, func(store importer.StoreDataset) (*importer.Release, error) {
		if store == nil {
			return rel, nil
		}
		for _, ds := range romecsv.Datasets {
			t := rel.Snapshot.T(ds.Name)
			rows := make([]refdata.Row, 0, t.Len())
			for _, r := range t.Rows() {
				rows = append(rows, r)
			}
			if err := store(rel.Info, ds, rows); err != nil {
				return nil, err
			}
		}
		return rel, nil
	})
}

// ImportFiles reads the official export at path (folder or zip) and stores it as Import
// does. Into an empty referential each dataset is stored as soon as it is read, inside the
// import's transaction (a release that fails its checks leaves nothing): storing overlaps
// reading.
func (s *Store) ImportFiles(ctx context.Context, path string, log *slog.Logger, replace bool) (ImportOutcome, int, error) {
	return s.importRelease(ctx, replace, func(store importer.StoreDataset) (*importer.Release, error) {
		return importer.ReadTo(path, log, store)
	})
}

// readRelease reads a release, handing each dataset to store when store is not nil.
type readRelease func(store importer.StoreDataset) (*importer.Release, error)

func (s *Store) importRelease(ctx context.Context, replace bool, read readRelease) (ImportOutcome, int, error) {
	latest, err := s.Latest(ctx)
	switch {
	case errors.Is(err, ErrNoVersion):
		rel, err := s.importFirst(ctx, read)
		if err != nil {
			return "", 0, err
		}
		return Imported, rel.Info.Number, nil
	case err != nil:
		return "", 0, err
	}
	rel, err := read(nil)
	if err != nil {
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

// importFirst reads a release into an empty referential, storing its datasets as they
// come, then its version, in one transaction.
func (s *Store) importFirst(ctx context.Context, read readRelease) (*importer.Release, error) {
	var rel *importer.Release
	load := func(exec func(string) error, primaryKey bool, storeRows importer.StoreDataset, record func(VersionRecord) error) error {
		return loadUnindexed(exec, primaryKey, func() error {
			var err error
			if rel, err = read(storeRows); err != nil {
				return err
			}
			info := rel.Info
			return record(VersionRecord{Number: info.Number, Label: info.Label, Source: SourceImport, PublishedAt: info.PublishedAt,
				LastModified: info.PublishedAt, VersionFile: info.Raw})
		})
	}
	var err error
	if s.isPostgres() {
		err = s.withPgx(ctx, func(tx pgx.Tx) error {
			exec := func(stmt string) error { _, err := tx.Exec(ctx, stmt); return err }
			copyRows := func(info romecsv.VersionInfo, ds *romecsv.Dataset, rows []refdata.Row) error {
				return copyRowsPostgres(ctx, tx, info.Number, ds, rows)
			}
			return load(exec, true, copyRows, func(v VersionRecord) error {
				_, err := tx.Exec(ctx, `INSERT INTO ref_versions (number, label, source, published_at, last_modified, version_file) VALUES ($1,$2,$3,$4,$5,$6)`,
					v.Number, v.Label, v.Source, v.PublishedAt, v.LastModified, v.VersionFile)
				return err
			})
		})
	} else {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			insert, err := prepareRowInsertSQLite(ctx, tx)
			if err != nil {
				return err
			}
			defer insert.Close()
			exec := func(stmt string) error { return tx.Exec(stmt).Error }
			insertRows := func(info romecsv.VersionInfo, ds *romecsv.Dataset, rows []refdata.Row) error {
				return insertRowsSQLite(ctx, insert, info.Number, ds, rows)
			}
			// SQLite cannot drop a primary key: only the secondary index waits.
			return load(exec, false, insertRows, func(v VersionRecord) error { return insertVersion(tx, v) })
		})
	}
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// loadUnindexed runs a bulk load with the indexes of ref_rows dropped, then builds them
// once: several times faster than maintaining them row by row. It runs inside the
// import's transaction, so no reader ever sees the table without them.
func loadUnindexed(exec func(string) error, primaryKey bool, load func() error) error {
	// ref_rows_closed holds only closed rows: an import adds none to it.
	drop := []string{`DROP INDEX ref_rows_from`}
	build := []string{refRowsFromIndex}
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
