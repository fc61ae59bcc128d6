package refdata

import "github.com/plateforme-rome/rome/services/referential/internal/romecsv"

// Tx stages row changes over a snapshot. Reads see the staged changes, so operations of
// one change set build on each other (a fiche created by the first one, say), and so do
// the change sets of a release, one after the other.
type Tx struct {
	base    *Snapshot
	staged  map[string]map[string][]string // dataset → key → new columns (nil = deleted)
	order   []stagedKey                    // first-touch order, for deterministic output
	journal []undo                         // every stage, to roll back to a Mark
}

type stagedKey struct{ dataset, key string }

// undo is what one stage replaced: the row's staged columns before it, or nothing when
// the stage touched the row first.
type undo struct {
	stagedKey
	prev  []string
	first bool
}

// Mark is a point in a transaction's staging, to roll back to.
type Mark int

// Begin starts staging changes over s.
func (s *Snapshot) Begin() *Tx {
	return &Tx{base: s, staged: map[string]map[string][]string{}}
}

// Base is the snapshot the transaction started from.
func (tx *Tx) Base() *Snapshot { return tx.base }

// Get implements View.
func (tx *Tx) Get(name, key string) ([]string, bool) {
	if m, ok := tx.staged[name]; ok {
		if cols, ok := m[key]; ok {
			return cols, cols != nil
		}
	}
	return tx.base.T(name).Get(key)
}

// ForRome implements View: the base rows of the fiche as staged, then staged insertions.
func (tx *Tx) ForRome(name, code string) [][]string {
	base := tx.base.T(name)
	m := tx.staged[name]
	rows := base.ForRome(code)
	if m == nil {
		return rows
	}
	ds := base.DS
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		if cols, ok := m[ds.Key(r)]; ok {
			if cols != nil && ds.CodeRome(cols) == code {
				out = append(out, cols)
			}
			continue
		}
		out = append(out, r)
	}
	for _, sk := range tx.order {
		if sk.dataset != name {
			continue
		}
		cols := m[sk.key]
		if cols == nil || ds.CodeRome(cols) != code {
			continue
		}
		if old, existed := base.Get(sk.key); existed && ds.CodeRome(old) == code {
			continue // already emitted in place above
		}
		out = append(out, cols)
	}
	return out
}

// Put inserts or replaces a row.
func (tx *Tx) Put(name string, cols []string) {
	ds := romecsv.MustByName(name)
	tx.stage(name, ds.Key(cols), cols)
}

// Delete removes the row with that key, if present.
func (tx *Tx) Delete(name, key string) {
	if _, ok := tx.Get(name, key); ok {
		tx.stage(name, key, nil)
	}
}

func (tx *Tx) stage(name, key string, cols []string) {
	m := tx.staged[name]
	if m == nil {
		m = map[string][]string{}
		tx.staged[name] = m
	}
	prev, seen := m[key]
	if !seen {
		tx.order = append(tx.order, stagedKey{name, key})
	}
	tx.journal = append(tx.journal, undo{stagedKey{name, key}, prev, !seen})
	m[key] = cols
}

// Mark returns the current point of the staging.
func (tx *Tx) Mark() Mark { return Mark(len(tx.journal)) }

// RollbackTo undoes every stage since m: a change set of a release that does not apply
// with the ones before it leaves nothing behind.
func (tx *Tx) RollbackTo(m Mark) {
	for i := len(tx.journal) - 1; i >= int(m); i-- {
		u := tx.journal[i]
		if u.first {
			delete(tx.staged[u.dataset], u.key)
			tx.order = tx.order[:len(tx.order)-1] // the first touch was the last one ordered
			continue
		}
		tx.staged[u.dataset][u.key] = u.prev
	}
	tx.journal = tx.journal[:m]
}

// Changes returns the net row changes, in the order rows were first touched. A row put
// back as it was is no change at all.
func (tx *Tx) Changes() []Change {
	var out []Change
	inserted := map[string]int64{}
	for _, sk := range tx.order {
		t := tx.base.T(sk.dataset)
		newCols := tx.staged[sk.dataset][sk.key]
		i, existed := t.row(sk.key)
		if !existed && newCols == nil {
			continue
		}
		c := Change{Dataset: sk.dataset, Key: sk.key, New: newCols}
		if existed {
			old := t.Row(i)
			if newCols != nil && equal(old.Cols, newCols) {
				continue
			}
			c.Old, c.Ord = old.Cols, old.Ord
		} else {
			inserted[sk.dataset]++
			c.Ord = t.maxOrd + inserted[sk.dataset]
		}
		out = append(out, c)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
