package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// Store is the referential's repository.
type Store struct {
	db *gorm.DB
}

// New wraps a GORM connection (PostgreSQL or SQLite).
func New(db *gorm.DB) *Store { return &Store{db: db} }

// VersionRecord is a stored referential version.
type VersionRecord struct {
	Number       int
	Label        string
	Source       string // SourceImport, SourceChangeSet or SourceRelease
	PublishedAt  time.Time
	LastModified time.Time
	VersionFile  string
	ChangesetID  *string // the change set that made it, when one did alone
	RequestID    *string
	// ReleaseNumber is the release that published it (release trains).
	ReleaseNumber *int
}

func (VersionRecord) TableName() string { return "ref_versions" }

// Version sources.
const (
	SourceImport    = "import"
	SourceChangeSet = "changeset"
	SourceRelease   = "release" // the change sets of a release, published together
)

func (v VersionRecord) Snapshot() refdata.Version {
	return refdata.Version{Number: v.Number, Label: v.Label, PublishedAt: v.PublishedAt, LastModified: v.LastModified}
}

// ErrNoVersion means the referential is empty: nothing was imported yet.
var ErrNoVersion = errors.New("the referential is empty: import an official release first")

// Versions lists every version, oldest first.
func (s *Store) Versions(ctx context.Context) ([]VersionRecord, error) {
	var vs []VersionRecord
	err := s.db.WithContext(ctx).Order("number").Find(&vs).Error
	return vs, err
}

// Latest returns the current version.
func (s *Store) Latest(ctx context.Context) (VersionRecord, error) {
	var v VersionRecord
	err := s.db.WithContext(ctx).Order("number DESC").Limit(1).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return v, ErrNoVersion
	}
	return v, err
}

// Version returns one version.
func (s *Store) Version(ctx context.Context, n int) (VersionRecord, bool, error) {
	return takeOne[VersionRecord](s.db.WithContext(ctx).Where("number = ?", n))
}

// takeOne reads the row q selects, and tells whether there is one.
func takeOne[T any](q *gorm.DB) (T, bool, error) {
	var row T
	err := q.Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, false, nil
	}
	return row, err == nil, err
}

func encodeCols(cols []string) string { return strings.Join(cols, romecsv.KeySep) }

func decodeCols(s string, n int) []string {
	cols := strings.Split(s, romecsv.KeySep)
	for len(cols) < n { // a row of only empty trailing fields
		cols = append(cols, "")
	}
	return cols
}

// Load reads the referential as it was at version n.
func (s *Store) Load(ctx context.Context, n int) (*refdata.Snapshot, error) {
	v, ok, err := s.Version(ctx, n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("version %d does not exist", n)
	}
	rows, err := s.db.WithContext(ctx).Raw(
		`SELECT dataset, ord, cols FROM ref_rows WHERE valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)`, n, n).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byDataset := map[string][]refdata.Row{}
	var (
		dataset, cols string
		ord           int64
	)
	for rows.Next() {
		if err := rows.Scan(&dataset, &ord, &cols); err != nil {
			return nil, err
		}
		ds := romecsv.ByName(dataset)
		if ds == nil {
			return nil, fmt.Errorf("stored rows of an unknown dataset %q", dataset)
		}
		byDataset[ds.Name] = append(byDataset[ds.Name], refdata.Row{Cols: decodeCols(cols, len(ds.Columns)), Ord: ord})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return refdata.New(v.Snapshot(), byDataset)
}

// insertVersion records a version inside a transaction.
func insertVersion(tx *gorm.DB, v VersionRecord) error {
	return tx.Create(&v).Error
}

// prepareRowInsertSQLite prepares the statement that inserts a batch of rows, inside the
// caller's GORM transaction. Each batch is one JSON parameter that SQLite unpacks with
// json_each: the driver prepares a statement again on every execution and binds its
// parameters in quadratic time, so a statement of a few tokens and one parameter costs
// far less per row than a multi-row VALUES list (BENCHMARKS.md).
func prepareRowInsertSQLite(ctx context.Context, tx *gorm.DB) (*sql.Stmt, error) {
	return tx.Statement.ConnPool.PrepareContext(ctx, `INSERT INTO ref_rows (dataset, row_key, valid_from, valid_to, ord, cols)
		SELECT ?, value->>0, ?, NULL, value->>1, value->>2 FROM json_each(?)`)
}

// insertRowsSQLite stores a whole dataset as valid from version n with insert
// (prepareRowInsertSQLite). Rows go in key order, so that the primary key's b-tree is
// appended to rather than split.
func insertRowsSQLite(ctx context.Context, insert *sql.Stmt, n int, ds *romecsv.Dataset, rows []refdata.Row) error {
	const perBatch = 2000
	keyed := make([][3]any, 0, len(rows))
	for _, r := range rows {
		keyed = append(keyed, [3]any{ds.Key(r.Cols), r.Ord, encodeCols(r.Cols)})
	}
	slices.SortFunc(keyed, func(a, b [3]any) int { return strings.Compare(a[0].(string), b[0].(string)) })
	for batch := range slices.Chunk(keyed, perBatch) {
		doc, err := json.Marshal(batch)
		if err != nil {
			return err
		}
		if _, err := insert.ExecContext(ctx, ds.Name, n, string(doc)); err != nil {
			return fmt.Errorf("insert %s: %w", ds.Name, err)
		}
	}
	return nil
}

// copyRowsPostgres stores a whole dataset as valid from version n with COPY.
func copyRowsPostgres(ctx context.Context, tx pgx.Tx, n int, ds *romecsv.Dataset, rows []refdata.Row) error {
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"ref_rows"}, []string{"dataset", "row_key", "valid_from", "ord", "cols"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= len(rows) {
				return nil, nil
			}
			r := rows[i]
			i++
			return []any{ds.Name, ds.Key(r.Cols), n, r.Ord, encodeCols(r.Cols)}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy %s: %w", ds.Name, err)
	}
	return nil
}

// withPgx runs fn in a pgx transaction on a connection of GORM's pool, for COPY.
func (s *Store) withPgx(ctx context.Context, fn func(pgx.Tx) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected PostgreSQL driver connection %T", dc)
		}
		return pgx.BeginFunc(ctx, sc.Conn(), fn)
	})
}

func (s *Store) isPostgres() bool { return s.db.Dialector.Name() == "postgres" }

// ErrConflict means another writer produced a version, or published one of the change
// sets, first.
var ErrConflict = errors.New("the referential moved on concurrently")

// ChangeSetRecord is a published change set and the answer it got.
type ChangeSetRecord struct {
	ID          string
	RequestID   string
	CodeRome    string
	BaseVersion int
	Version     int
	PayloadHash string
	Response    string
	CreatedAt   time.Time
}

func (ChangeSetRecord) TableName() string { return "ref_changesets" }

// ChangeSet returns a published change set by id.
func (s *Store) ChangeSet(ctx context.Context, id string) (*ChangeSetRecord, bool, error) {
	r, found, err := takeOne[ChangeSetRecord](s.db.WithContext(ctx).Where("id = ?", id))
	if !found {
		return nil, false, err
	}
	return &r, true, nil
}

// ChangeEntry is one line of the semantic changelog.
type ChangeEntry struct {
	Version     int
	Seq         int
	CodeRome    string
	ChangesetID string
	RequestID   string
	Entry       string // JSON of the semantic change
}

func (ChangeEntry) TableName() string { return "ref_changes" }

// Publication is what one new version stores.
type Publication struct {
	Version    VersionRecord
	ChangeSets []ChangeSetRecord // what each published change set answers (none for a re-import)
	Rows       []refdata.Change
	Entries    []ChangeEntry
	// Correspondences are the appellations removed with a replacement.
	Correspondences []Correspondence
	Counters        map[string]int64 // counters to set, e.g. the next local code OGR
	// Release is the release the version publishes (nil: a change set or an import).
	Release *ReleaseOutcome
}

// Publish stores a new version atomically. The version number must be the next one:
// if another writer got there first, the insert fails and ErrConflict is returned.
func (s *Store) Publish(ctx context.Context, p Publication) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var latest sql.NullInt64
		if err := tx.Raw(`SELECT MAX(number) FROM ref_versions`).Scan(&latest).Error; err != nil {
			return err
		}
		if int(latest.Int64) >= p.Version.Number {
			return ErrConflict
		}
		if err := insertVersion(tx, p.Version); err != nil {
			if database.IsUniqueViolation(err) {
				return ErrConflict
			}
			return err
		}
		n := p.Version.Number
		for _, c := range p.Rows {
			if c.Old != nil {
				res := tx.Exec(`UPDATE ref_rows SET valid_to = ? WHERE dataset = ? AND row_key = ? AND valid_to IS NULL`, n, c.Dataset, c.Key)
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected != 1 {
					return ErrConflict
				}
			}
			if c.New != nil {
				if err := tx.Exec(`INSERT INTO ref_rows (dataset, row_key, valid_from, valid_to, ord, cols) VALUES (?,?,?,NULL,?,?)`,
					c.Dataset, c.Key, n, c.Ord, encodeCols(c.New)).Error; err != nil {
					return err
				}
			}
		}
		if len(p.ChangeSets) > 0 {
			if err := tx.Create(p.ChangeSets).Error; err != nil {
				if database.IsUniqueViolation(err) {
					return ErrConflict // another replica published one of them meanwhile
				}
				return err
			}
		}
		if p.Release != nil {
			if err := closeRelease(tx, *p.Release, &n); err != nil {
				return err
			}
		}
		if len(p.Entries) > 0 {
			if err := tx.CreateInBatches(p.Entries, 500).Error; err != nil {
				return err
			}
		}
		if len(p.Correspondences) > 0 {
			if err := tx.Create(p.Correspondences).Error; err != nil {
				return err
			}
		}
		for name, value := range p.Counters {
			if err := setCounter(tx, name, value); err != nil {
				return err
			}
		}
		return enqueueWebhooks(tx, p) // the outbox: the version's events commit with it
	})
}

func setCounter(tx *gorm.DB, name string, value int64) error {
	res := tx.Exec(`UPDATE ref_counters SET value = ? WHERE name = ?`, value, name)
	if res.Error != nil || res.RowsAffected == 1 {
		return res.Error
	}
	return tx.Exec(`INSERT INTO ref_counters (name, value) VALUES (?, ?)`, name, value).Error
}

// Counter reads a counter (0 when never set).
func (s *Store) Counter(ctx context.Context, name string) (int64, error) {
	var v sql.NullInt64
	err := s.db.WithContext(ctx).Raw(`SELECT value FROM ref_counters WHERE name = ?`, name).Scan(&v).Error
	return v.Int64, err
}

// FicheHistory lists the changelog entries of a fiche, oldest first.
func (s *Store) FicheHistory(ctx context.Context, code string) ([]ChangeEntry, error) {
	var es []ChangeEntry
	err := s.db.WithContext(ctx).Where("code_rome = ?", code).Order("version, seq").Find(&es).Error
	return es, err
}

// VersionEntries lists the changelog entries of one version.
func (s *Store) VersionEntries(ctx context.Context, n int) ([]ChangeEntry, error) {
	var es []ChangeEntry
	err := s.db.WithContext(ctx).Where("version = ?", n).Order("seq").Find(&es).Error
	return es, err
}

// RowDelta is a row added to or removed from an official file by a version.
type RowDelta struct {
	Dataset string   `json:"file"`
	Cols    []string `json:"row"`
}

// VersionRows returns the rows that version n added and removed (an update is both).
func (s *Store) VersionRows(ctx context.Context, n int) (added, removed []RowDelta, err error) {
	err = s.EachVersionRow(ctx, n, func(ds *romecsv.Dataset, opened bool, cols []string) error {
		d := RowDelta{Dataset: ds.Name, Cols: cols}
		if opened {
			added = append(added, d)
		} else {
			removed = append(removed, d)
		}
		return nil
	})
	return added, removed, err
}

// MarshalEntry is a helper for callers building ChangeEntry.Entry.
func MarshalEntry(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // entries are plain structs: failing to marshal is a programming error
	}
	return string(b)
}
