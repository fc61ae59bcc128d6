package refdata

import "github.com/plateforme-rome/rome/services/referential/internal/romecsv"

// Tx stages row changes over a snapshot. Reads see the staged changes, so operations of
// one change set build on each other (a fiche created by the first one, say).
type Tx struct {
	base   *Snapshot
	staged map[string]map[string][]string // dataset → key → new columns (nil = deleted)
	order  []stagedKey                    // first-touch order, for deterministic output
}

type stagedKey struct{ dataset, key string }

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
	if _, seen := m[key]; !seen {
		tx.order = append(tx.order, stagedKey{name, key})
	}
	m[key] = cols
}

// Changes returns the net row changes, in the order rows were first touched. A row put
// back as it was is no change at all.
func (tx *Tx) Changes() []Change {
	var out []Change
	inserted := map[string]int64{}
	for _, sk := range tx.order {
		t := tx.base.T(sk.dataset)
		newCols := tx.staged[sk.dataset][sk.key]
		oldCols, existed := t.Get(sk.key)
		if !existed && newCols == nil {
			continue
		}
		if existed && newCols != nil && equal(oldCols, newCols) {
			continue
		}
		c := Change{Dataset: sk.dataset, Key: sk.key, New: newCols}
		if existed {
			c.Old = oldCols
			c.Ord = t.rows[t.byKey[sk.key]].Ord
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
