// Package refdata holds one version of the referential in memory, as the rows of the
// official files, indexed by natural key and by fiche. A Snapshot is immutable: a change
// set produces a new Snapshot that shares every table it did not touch.
package refdata

import (
	"fmt"
	"sort"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// Row is one record of an official file. Ord keeps the export order.
type Row struct {
	Cols []string
	Ord  int64
}

// Table is the content of one dataset.
type Table struct {
	DS     *romecsv.Dataset
	rows   []Row
	byKey  map[string]int
	byRome map[string][]int
	maxOrd int64
}

func newTable(ds *romecsv.Dataset, rows []Row) (*Table, error) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Ord < rows[j].Ord })
	t := &Table{DS: ds, rows: rows, byKey: make(map[string]int, len(rows))}
	if ds.RomeCol != "" {
		t.byRome = make(map[string][]int, 2048)
	}
	for i, r := range rows {
		k := ds.Key(r.Cols)
		if _, dup := t.byKey[k]; dup {
			return nil, fmt.Errorf("%s: duplicate key %q", ds.Name, k)
		}
		t.byKey[k] = i
		if t.byRome != nil {
			code := ds.CodeRome(r.Cols)
			t.byRome[code] = append(t.byRome[code], i)
		}
		if r.Ord > t.maxOrd {
			t.maxOrd = r.Ord
		}
	}
	return t, nil
}

// Len is the number of rows.
func (t *Table) Len() int { return len(t.rows) }

// Rows returns every row in export order; callers must not modify them.
func (t *Table) Rows() []Row { return t.rows }

// Get returns the columns of the row with that key.
func (t *Table) Get(key string) ([]string, bool) {
	i, ok := t.byKey[key]
	if !ok {
		return nil, false
	}
	return t.rows[i].Cols, true
}

// ForRome returns the rows of one fiche, in export order.
func (t *Table) ForRome(code string) [][]string {
	idx := t.byRome[code]
	out := make([][]string, len(idx))
	for i, j := range idx {
		out[i] = t.rows[j].Cols
	}
	return out
}

// Version describes a referential version.
type Version struct {
	Number       int
	Label        string
	PublishedAt  time.Time
	LastModified time.Time
}

// Snapshot is the whole referential at one version.
type Snapshot struct {
	Version Version
	tables  map[string]*Table
}

// New builds a snapshot from rows grouped by dataset name. Every official dataset is
// present, possibly empty.
func New(v Version, rows map[string][]Row) (*Snapshot, error) {
	s := &Snapshot{Version: v, tables: make(map[string]*Table, len(romecsv.Datasets))}
	for _, ds := range romecsv.Datasets {
		t, err := newTable(ds, rows[ds.Name])
		if err != nil {
			return nil, err
		}
		s.tables[ds.Name] = t
	}
	return s, nil
}

// T returns a table by dataset name; the names are the romecsv constants.
func (s *Snapshot) T(name string) *Table {
	t, ok := s.tables[name]
	if !ok {
		panic("refdata: unknown dataset " + name)
	}
	return t
}

// Get implements View.
func (s *Snapshot) Get(name, key string) ([]string, bool) { return s.T(name).Get(key) }

// ForRome implements View.
func (s *Snapshot) ForRome(name, code string) [][]string { return s.T(name).ForRome(code) }

// Counts returns the number of rows of every dataset.
func (s *Snapshot) Counts() map[string]int {
	out := make(map[string]int, len(s.tables))
	for n, t := range s.tables {
		out[n] = t.Len()
	}
	return out
}

// Change is one row-level change: Old is nil for an insertion, New nil for a deletion.
type Change struct {
	Dataset string
	Key     string
	Old     []string
	New     []string
	Ord     int64 // export position of the new row (kept from the old row on update)
}

// Apply returns a new snapshot with the changes applied; untouched tables are shared.
func (s *Snapshot) Apply(v Version, changes []Change) (*Snapshot, error) {
	byTable := map[string][]Change{}
	for _, c := range changes {
		byTable[c.Dataset] = append(byTable[c.Dataset], c)
	}
	next := &Snapshot{Version: v, tables: make(map[string]*Table, len(s.tables))}
	for name, t := range s.tables {
		cs, touched := byTable[name]
		if !touched {
			next.tables[name] = t
			continue
		}
		rows := make([]Row, 0, len(t.rows)+len(cs))
		gone := make(map[string]bool, len(cs))
		replaced := make(map[string]Row, len(cs))
		for _, c := range cs {
			if _, exists := t.byKey[c.Key]; exists != (c.Old != nil) {
				return nil, fmt.Errorf("%s: row %q changed under the change set", name, c.Key)
			}
			switch {
			case c.New == nil:
				gone[c.Key] = true
			case c.Old != nil:
				replaced[c.Key] = Row{Cols: c.New, Ord: c.Ord}
			}
		}
		for _, r := range t.rows {
			k := t.DS.Key(r.Cols)
			if gone[k] {
				continue
			}
			if nr, ok := replaced[k]; ok {
				rows = append(rows, nr)
				continue
			}
			rows = append(rows, r)
		}
		for _, c := range cs {
			if c.Old == nil {
				rows = append(rows, Row{Cols: c.New, Ord: c.Ord})
			}
		}
		nt, err := newTable(t.DS, rows)
		if err != nil {
			return nil, err
		}
		next.tables[name] = nt
	}
	return next, nil
}

// View reads rows; both Snapshot and Tx implement it, so documents can be built for a
// published version or for the preview of a change set.
type View interface {
	Get(dataset, key string) ([]string, bool)
	ForRome(dataset, code string) [][]string
}
