package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// How the replicas of the referential learn of a version another one stored.

// VersionsChannel is the PostgreSQL channel on which every new version is announced, its
// number as the payload, when the transaction that stores it commits.
const VersionsChannel = "referential_versions"

// migrationAnnounceVersions makes PostgreSQL announce each version as it is inserted, by a
// trigger: every way of storing one (a change set, a release, an import) is covered, in
// its own transaction. SQLite serves one process and has nothing to announce.
func migrationAnnounceVersions(tx *gorm.DB, d database.Dialect) error {
	if d != database.Postgres {
		return nil
	}
	return database.ExecAll(tx,
		`CREATE FUNCTION ref_versions_announce() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_notify('`+VersionsChannel+`', NEW.number::text);
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER ref_versions_announce AFTER INSERT ON ref_versions
			FOR EACH ROW EXECUTE FUNCTION ref_versions_announce()`)
}

// AnnouncesVersions tells whether the database announces new versions (PostgreSQL), which
// WatchVersions then hears.
func (s *Store) AnnouncesVersions() bool { return s.isPostgres() }

// WatchVersions listens for new versions until ctx ends, on a connection of its own,
// calling announced with the number of each, and with 0 after each (re)connection: what
// was announced while the connection was down is lost, so the caller checks then.
func (s *Store) WatchVersions(ctx context.Context, log *slog.Logger, announced func(version int)) error {
	return database.Listener{
		Channel:   VersionsChannel,
		Log:       log,
		Connected: func() { announced(0) },
		Notified: func(payload string) {
			n, err := strconv.Atoi(payload)
			if err != nil {
				log.Warn("unreadable version announcement", "payload", payload)
			}
			announced(n)
		},
	}.Run(ctx, s.db)
}

// VersionsAfter lists the versions after version n, oldest first.
func (s *Store) VersionsAfter(ctx context.Context, n int) ([]VersionRecord, error) {
	var vs []VersionRecord
	err := s.db.WithContext(ctx).Where("number > ?", n).Order("number").Find(&vs).Error
	return vs, err
}

// Advance returns snap with version v applied: the rows v opened and closed, read back,
// which is what its publication applied to the version before it. snap must be that
// version.
func (s *Store) Advance(ctx context.Context, snap *refdata.Snapshot, v VersionRecord) (*refdata.Snapshot, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT dataset, row_key, valid_from, ord, cols FROM ref_rows
		WHERE valid_from = ? OR valid_to = ?`, v.Number, v.Number).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type rowID struct{ dataset, key string }
	changes := map[rowID]*refdata.Change{}
	var order []rowID
	var (
		dataset, key, cols string
		from               int
		ord                int64
	)
	for rows.Next() {
		if err := rows.Scan(&dataset, &key, &from, &ord, &cols); err != nil {
			return nil, err
		}
		ds := romecsv.ByName(dataset)
		if ds == nil {
			return nil, fmt.Errorf("stored rows of an unknown dataset %q", dataset)
		}
		id := rowID{dataset, key}
		c, ok := changes[id]
		if !ok {
			c = &refdata.Change{Dataset: dataset, Key: key}
			changes[id] = c
			order = append(order, id)
		}
		if from == v.Number {
			c.New, c.Ord = decodeCols(cols, len(ds.Columns)), ord
		} else {
			c.Old = decodeCols(cols, len(ds.Columns))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	applied := make([]refdata.Change, 0, len(order))
	for _, id := range order {
		applied = append(applied, *changes[id])
	}
	return snap.Apply(v.Snapshot(), applied)
}
