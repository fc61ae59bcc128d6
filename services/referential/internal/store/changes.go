package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// FeedPosition is a place in the change feed: the changelog is append-only and ordered
// by (version, seq), so a position stays valid across publications.
type FeedPosition struct {
	Version, Seq int
}

// FeedEntry is a changelog entry with the date of its version.
type FeedEntry struct {
	ChangeEntry
	PublishedAt time.Time
}

// Position is where the entry stands in the change feed.
func (e FeedEntry) Position() FeedPosition { return FeedPosition{Version: e.Version, Seq: e.Seq} }

// Changes lists at most limit changelog entries of the versions in (since, upto], after
// the position after (nil: from the start), in feed order. The bound upto keeps a page
// consistent with the version the caller serves even if another process published since.
func (s *Store) Changes(ctx context.Context, since, upto int, after *FeedPosition, limit int) ([]FeedEntry, error) {
	var out []FeedEntry
	err := feedPage(s.db.WithContext(ctx).Table("ref_changes AS c").
		Select("c.version, c.seq, c.code_rome, c.changeset_id, c.request_id, c.entry, v.published_at"), since, upto, after, limit).
		Scan(&out).Error
	return out, err
}

// feedPage narrows q, a table aliased c with (version, seq) columns, to a page of a list
// that follows the versions: the rows of the versions in (since, upto] after the position
// after, in publication order, each with its version's published_at (v).
func feedPage(q *gorm.DB, since, upto int, after *FeedPosition, limit int) *gorm.DB {
	q = q.Joins("JOIN ref_versions v ON v.number = c.version").Where("c.version > ? AND c.version <= ?", since, upto)
	if after != nil {
		q = q.Where("(c.version > ? OR (c.version = ? AND c.seq > ?))", after.Version, after.Version, after.Seq)
	}
	return q.Order("c.version, c.seq").Limit(limit)
}

// EachVersionRow calls fn with every row that version n opened or closed, grouped by file
// (in no particular order of files), the opened rows of a file before its closed ones,
// each side in export order. The first import opened every row of the release. Rows are
// streamed: that first delta is the whole referential.
func (s *Store) EachVersionRow(ctx context.Context, n int, fn func(ds *romecsv.Dataset, opened bool, cols []string) error) error {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT dataset, valid_from, cols FROM ref_rows WHERE valid_from = ? OR valid_to = ?
		ORDER BY dataset, CASE WHEN valid_from = ? THEN 0 ELSE 1 END, ord`, n, n, n).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		dataset, cols string
		from          int
	)
	for rows.Next() {
		if err := rows.Scan(&dataset, &from, &cols); err != nil {
			return err
		}
		ds := romecsv.ByName(dataset)
		if ds == nil {
			return fmt.Errorf("stored rows of an unknown dataset %q", dataset)
		}
		if err := fn(ds, from == n, decodeCols(cols, len(ds.Columns))); err != nil {
			return err
		}
	}
	return rows.Err()
}
