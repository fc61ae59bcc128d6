package refdata

import "github.com/plateforme-rome/rome/services/referential/internal/romecsv"

// Diff returns the row changes that turn a into b, dataset by dataset.
func Diff(a, b *Snapshot) []Change {
	var out []Change
	for _, ds := range romecsv.Datasets {
		ta, tb := a.T(ds.Name), b.T(ds.Name)
		for _, r := range ta.Rows() {
			k := ds.Key(r.Cols)
			nb, ok := tb.Get(k)
			switch {
			case !ok:
				out = append(out, Change{Dataset: ds.Name, Key: k, Old: r.Cols})
			case !equal(r.Cols, nb):
				out = append(out, Change{Dataset: ds.Name, Key: k, Old: r.Cols, New: nb, Ord: r.Ord})
			}
		}
		for _, r := range tb.Rows() {
			k := ds.Key(r.Cols)
			if _, ok := ta.Get(k); !ok {
				out = append(out, Change{Dataset: ds.Name, Key: k, New: r.Cols, Ord: ta.maxOrd + r.Ord})
			}
		}
	}
	return out
}
