// Package refdata holds one version of the referential in memory, as the rows of the
// official files, indexed by natural key and by fiche. A Snapshot is immutable: a change
// set produces a new Snapshot that shares every table it did not touch.
package refdata

import (
	"fmt"
	"hash/maphash"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// Row is one record of an official file. Ord keeps the export order. A table's rows are
// read with columns of their own: a caller may keep them.
type Row struct {
	Cols []string
	Ord  int64
}

// Table is the content of one dataset, packed: the fields of every row back to back in
// one string, cut by end offsets, and indexes of row numbers. The referential stays in
// memory for as long as it is served, and this way it holds no pointer per row or field
// for the garbage collector to scan. A row's columns are substrings of that string,
// sliced out when the row is read.
type Table struct {
	DS     *romecsv.Dataset
	width  int                // columns of a row
	text   string             // every field of every row, in export order
	ends   []uint32           // field j of row i ends at ends[i*width+j] in text
	ords   []int64            // export position of each row
	keyCol []int              // columns of the natural key
	slots  []uint32           // the key index: an open-addressing hash table of row+1 (0: empty)
	byRome map[string][]int32 // the rows of each fiche, in export order
	maxOrd int64
}

// seed hashes the natural keys of every table.
var seed = maphash.MakeSeed()

func newTable(ds *romecsv.Dataset, rows []Row) (*Table, error) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Ord < rows[j].Ord })
	t := &Table{DS: ds, width: len(ds.Columns), ords: make([]int64, len(rows))}
	size := 0
	for _, r := range rows {
		if len(r.Cols) != t.width {
			return nil, fmt.Errorf("%s: a row of %d columns, want %d", ds.Name, len(r.Cols), t.width)
		}
		for _, c := range r.Cols {
			size += len(c)
		}
	}
	var text strings.Builder
	text.Grow(size)
	t.ends = make([]uint32, 0, len(rows)*t.width)
	for i, r := range rows {
		for _, c := range r.Cols {
			text.WriteString(c)
			t.ends = append(t.ends, uint32(text.Len()))
		}
		t.ords[i] = r.Ord
		t.maxOrd = max(t.maxOrd, r.Ord)
	}
	t.text = text.String()

	for _, c := range ds.KeyCols {
		t.keyCol = append(t.keyCol, ds.Col(c))
	}
	// At most half full: a lookup probes one or two slots.
	slots := 1
	for slots < 2*len(rows) {
		slots <<= 1
	}
	t.slots = make([]uint32, slots)
	for i, r := range rows {
		k := ds.Key(r.Cols)
		s, dup := t.find(k)
		if dup {
			return nil, fmt.Errorf("%s: duplicate key %q", ds.Name, k)
		}
		t.slots[s] = uint32(i + 1)
	}
	if ds.RomeCol != "" {
		t.byRome = map[string][]int32{}
		c := ds.Col(ds.RomeCol)
		for i := range rows {
			code := t.field(i, c) // not the row's own string, which the table must not keep alive
			t.byRome[code] = append(t.byRome[code], int32(i))
		}
	}
	return t, nil
}

// find returns the slot holding the row with that key, or the empty slot where it goes.
func (t *Table) find(key string) (slot int, found bool) {
	mask := len(t.slots) - 1
	for s := int(maphash.String(seed, key)) & mask; ; s = (s + 1) & mask {
		r := t.slots[s]
		if r == 0 {
			return s, false
		}
		if t.hasKey(int(r-1), key) {
			return s, true
		}
	}
}

// hasKey tells whether row i's natural key is key, as Dataset.Key would join it.
func (t *Table) hasKey(i int, key string) bool {
	for n, c := range t.keyCol {
		if n > 0 {
			if !strings.HasPrefix(key, romecsv.KeySep) {
				return false
			}
			key = key[len(romecsv.KeySep):]
		}
		f := t.field(i, c)
		if !strings.HasPrefix(key, f) {
			return false
		}
		key = key[len(f):]
	}
	return key == ""
}

// row returns the number of the row with that key.
func (t *Table) row(key string) (int, bool) {
	s, found := t.find(key)
	return int(t.slots[s]) - 1, found
}

// field returns column j of row i.
func (t *Table) field(i, j int) string {
	k := i*t.width + j
	start := uint32(0)
	if k > 0 {
		start = t.ends[k-1]
	}
	return t.text[start:t.ends[k]]
}

// cols returns the columns of row i, in a slice of their own.
func (t *Table) cols(i int) []string { return t.fill(make([]string, t.width), i) }

// fill sets dst, of the table's width, to the columns of row i.
func (t *Table) fill(dst []string, i int) []string {
	for j := range dst {
		dst[j] = t.field(i, j)
	}
	return dst
}

// Len is the number of rows.
func (t *Table) Len() int { return len(t.ords) }

// Row returns the row at position i in export order.
func (t *Table) Row(i int) Row { return Row{Cols: t.cols(i), Ord: t.ords[i]} }

// Rows yields every row in export order, with its position.
func (t *Table) Rows() iter.Seq2[int, Row] {
	return func(yield func(int, Row) bool) {
		for i := range t.ords {
			if !yield(i, t.Row(i)) {
				return
			}
		}
	}
}

// Get returns the columns of the row with that key.
func (t *Table) Get(key string) ([]string, bool) {
	i, ok := t.row(key)
	if !ok {
		return nil, false
	}
	return t.cols(i), true
}

// Field returns column col of the row with that key, without reading the rest of the row
// (the searches describe each hit by a field or two).
func (t *Table) Field(key string, col int) (string, bool) {
	i, ok := t.row(key)
	if !ok {
		return "", false
	}
	return t.field(i, col), true
}

// ForRome returns the rows of one fiche, in export order.
func (t *Table) ForRome(code string) [][]string {
	idx := t.byRome[code]
	out := make([][]string, len(idx))
	all, w := make([]string, len(idx)*t.width), t.width // one allocation for every row
	for i, j := range idx {
		out[i] = t.fill(all[i*w:(i+1)*w:(i+1)*w], int(j))
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
		rows := make([]Row, 0, t.Len()+len(cs))
		gone := make(map[string]bool, len(cs))
		replaced := make(map[string]Row, len(cs))
		for _, c := range cs {
			if _, exists := t.row(c.Key); exists != (c.Old != nil) {
				return nil, fmt.Errorf("%s: row %q changed under the change set", name, c.Key)
			}
			switch {
			case c.New == nil:
				gone[c.Key] = true
			case c.Old != nil:
				replaced[c.Key] = Row{Cols: c.New, Ord: c.Ord}
			}
		}
		for _, r := range t.Rows() {
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
