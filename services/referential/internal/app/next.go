package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// nextCache holds the view of the next release, for the version and the staged change sets
// it was built from.
type nextCache struct {
	mu       sync.Mutex
	version  int
	revision int64
	state    *State
}

// pending is what the next release adds to the current version, for the provenance of
// its elements: the version it would be, the row changes and the changelog of its change sets.
type pending struct {
	record  store.VersionRecord
	rows    []refdata.Change
	entries []HistoryEntry
}

// Next is the referential as the next releases would make it (?version=next, release
// trains): the current version with the change sets staged in the releases not published
// yet (a frozen one, then the open one) that apply, one after the other, in their order.
// It is built once for a current version and a staged set, and served from memory until
// either moves.
func (s *Service) Next(ctx context.Context) (*State, error) {
	if !s.ReleaseTrains() {
		return nil, ErrReleaseTrainsOff
	}
	cur := s.Current()
	if cur == nil {
		return nil, ErrEmpty
	}
	// Read before the change sets: a change set staged while the view is built moves it
	// again, and the next read builds it anew.
	revision, err := s.store.StagedRevision(ctx)
	if err != nil {
		return nil, err
	}
	c := &s.next
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != nil && c.version == cur.Version() && c.revision == revision {
		return c.state, nil
	}
	st, err := s.buildNext(ctx, cur, revision)
	if err != nil {
		return nil, err
	}
	c.version, c.revision, c.state = cur.Version(), revision, st
	return st, nil
}

func (s *Service) buildNext(ctx context.Context, cur *State, revision int64) (*State, error) {
	start := time.Now()
	css, err := s.store.PendingChangeSets(ctx)
	if err != nil {
		return nil, err
	}
	last, err := s.lastOGR(ctx)
	if err != nil {
		return nil, err
	}
	q, verdicts, err := runStaged(cur, last, css)
	if err != nil {
		return nil, err
	}
	n := cur.Version() + 1
	now := millisNow()
	p := &pending{record: store.VersionRecord{Number: n, Label: versionLabel(cur, "prochaine release"), Source: store.SourceRelease,
		PublishedAt: now, LastModified: now}, rows: q.tx.Changes()}
	for _, v := range verdicts {
		if !v.included {
			continue
		}
		for _, r := range v.results {
			for _, c := range r.Changes {
				p.entries = append(p.entries, HistoryEntry{Version: n, ChangesetID: v.staged.ID, RequestID: v.staged.RequestID, Change: c})
			}
		}
	}
	snap, err := cur.Snap.Apply(p.record.Snapshot(), p.rows)
	if err != nil {
		return nil, err
	}
	st := newState(snap)
	st.ETag = fmt.Sprintf(`"rome-next-v%d-r%d"`, cur.Version(), revision)
	st.pending = p
	s.log.Info("next release built", "version", cur.Version(), "changesets", len(css), "ms", time.Since(start).Milliseconds())
	return st, nil
}

// IsNext tells whether st is the next release rather than a published version.
func (st *State) IsNext() bool { return st.pending != nil }

// addTo adds the next release to a provenance of fiche code: its version, the
// fiche's changes in it, and the spans its row changes close and open.
func (p *pending) addTo(pv *provenance, code string) {
	n := p.record.Number
	pv.versions[n] = p.record
	for _, e := range p.entries {
		if e.Change.CodeRome == code {
			pv.entries[n] = append(pv.entries[n], e)
		}
	}
	for _, c := range p.rows {
		ds := romecsv.ByName(c.Dataset)
		if ds.RomeCol == "" {
			continue // shared files (items, arborescence) belong to no fiche
		}
		r := rowRef{c.Dataset, c.Key}
		if c.Old != nil && ds.CodeRome(c.Old) == code {
			pv.close(r, n)
		}
		if c.New != nil && ds.CodeRome(c.New) == code {
			pv.spans[r] = append(pv.spans[r], store.RowSpan{Dataset: c.Dataset, Key: c.Key, ValidFrom: n})
		}
	}
}
