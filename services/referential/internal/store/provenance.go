package store

import (
	"context"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// RowSpan is one stored state of a row: valid in versions [ValidFrom, ValidTo), ValidTo
// 0 while it is current.
type RowSpan struct {
	Dataset   string
	Key       string
	ValidFrom int
	ValidTo   int
}

// FicheRowEvents returns the spans of the rows of fiche code that the given versions
// opened or closed. Provenance reads only the versions that touched the fiche (its
// changelog, and re-imports): every other row of the fiche has been there since the
// import, so the rest of ref_rows is never read.
func (s *Store) FicheRowEvents(ctx context.Context, code string, versions []int) ([]RowSpan, error) {
	if len(versions) == 0 {
		return nil, nil
	}
	rows, err := s.db.WithContext(ctx).Raw(`SELECT dataset, row_key, cols, valid_from, COALESCE(valid_to, 0)
		FROM ref_rows WHERE valid_from IN ? OR valid_to IN ?`, versions, versions).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RowSpan
	for rows.Next() {
		var sp RowSpan
		var cols string
		if err := rows.Scan(&sp.Dataset, &sp.Key, &cols, &sp.ValidFrom, &sp.ValidTo); err != nil {
			return nil, err
		}
		ds := romecsv.ByName(sp.Dataset)
		if ds == nil || ds.RomeCol == "" {
			continue // shared files (items, arborescence) belong to no fiche
		}
		if ds.CodeRome(decodeCols(cols, len(ds.Columns))) == code {
			out = append(out, sp)
		}
	}
	return out, rows.Err()
}
