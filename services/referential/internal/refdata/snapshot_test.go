package refdata_test

import (
	"slices"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// A packed table reads back every row as it was given, in export order, by its whole
// natural key only, and by fiche.
func TestTableReadsRowsAsGiven(t *testing.T) {
	t.Parallel()
	const M = romecsv.Mobilite // key: code_rome, code_rome_cible
	snap, err := refdata.New(refdata.Version{Number: 60}, map[string][]refdata.Row{M: {
		{Cols: []string{"M1805", "M1806", "2"}, Ord: 3},
		{Cols: []string{"M1805", "M1810", "1"}, Ord: 1},
		{Cols: []string{"A1101", "", ""}, Ord: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var order [][]string
	for _, r := range snap.T(M).Rows() {
		order = append(order, r.Cols)
	}
	if want := [][]string{{"M1805", "M1810", "1"}, {"A1101", "", ""}, {"M1805", "M1806", "2"}}; !slices.EqualFunc(order, want, slices.Equal) {
		t.Errorf("rows %q, want %q", order, want)
	}
	if r, ok := snap.Get(M, "M1805"+romecsv.KeySep+"M1806"); !ok || r[2] != "2" {
		t.Errorf("by key: %q %v", r, ok)
	}
	if r, ok := snap.Get(M, "A1101"+romecsv.KeySep); !ok || r[0] != "A1101" {
		t.Errorf("by a key with an empty part: %q %v", r, ok)
	}
	if f, ok := snap.T(M).Field("M1805"+romecsv.KeySep+"M1806", 2); !ok || f != "2" {
		t.Errorf("one field by key: %q %v", f, ok)
	}
	for _, k := range []string{"M1805", "M1805" + romecsv.KeySep + "M18", "M1805" + romecsv.KeySep + "M1806" + romecsv.KeySep + "2", ""} {
		if r, ok := snap.Get(M, k); ok {
			t.Errorf("key %q found %q", k, r)
		}
		if f, ok := snap.T(M).Field(k, 0); ok {
			t.Errorf("key %q found field %q", k, f)
		}
	}
	if rows := snap.ForRome(M, "M1805"); len(rows) != 2 || rows[0][1] != "M1810" || rows[1][1] != "M1806" {
		t.Errorf("rows of M1805: %q", rows)
	}

	for name, rows := range map[string][]refdata.Row{
		"duplicate key":  {{Cols: []string{"M1805", "M1806", "1"}, Ord: 1}, {Cols: []string{"M1805", "M1806", "2"}, Ord: 2}},
		"missing column": {{Cols: []string{"M1805", "M1806"}, Ord: 1}},
	} {
		if _, err := refdata.New(refdata.Version{Number: 60}, map[string][]refdata.Row{M: rows}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
