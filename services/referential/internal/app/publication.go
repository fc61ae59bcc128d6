package app

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/search"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// What publishing shares, whether one change set becomes a version at once or the change
// sets of a release become one together: running change sets one after the other on the
// current version (sequence), and storing what they changed as the next version (draft).

// sequence runs change sets one after the other over a version, in one transaction: each
// sees what the ones before it changed, and one that does not apply as a whole leaves
// nothing behind. New codes OGR follow the platform's counter, in that order.
type sequence struct {
	st     *State
	tx     *refdata.Tx
	deps   changeset.Deps
	ogr    int64             // the last code OGR given
	labels map[string]string // label key → code OGR of the appellations the applied change sets named
}

func newSequence(st *State, lastOGR int64) *sequence {
	q := &sequence{st: st, tx: st.Snap.Begin(), ogr: lastOGR, labels: map[string]string{}}
	q.deps = changeset.Deps{
		NextOGR:            func() string { q.ogr++; return strconv.FormatInt(q.ogr, 10) },
		AppellationByLabel: q.appellationByLabel,
		LabelKey:           search.LabelKey,
	}
	return q
}

// appellationByLabel looks a label up among the appellations the earlier change sets of the
// sequence named, then in the version: two change sets of a release may not give the same
// label twice (the engine checks that the appellation found still has it).
func (q *sequence) appellationByLabel(key string) (string, bool) {
	if ogr, ok := q.labels[key]; ok {
		return ogr, true
	}
	return q.st.AppellationByLabel(key)
}

// run runs req and keeps what applies, for a dry run: every operation is reported, and the
// preview shows the operations that apply.
func (q *sequence) run(req ChangeSetRequest) ([]changeset.Result, string) {
	return changeset.Run(q.tx, req.CodeRome, req.Operations, q.deps)
}

// apply runs req and keeps it only if every operation applies (applies is false
// otherwise, and the results say why). code is the fiche it ended on.
func (q *sequence) apply(req ChangeSetRequest) (results []changeset.Result, code string, applies bool) {
	mark, ogr := q.tx.Mark(), q.ogr
	results, code = q.run(req)
	if !allApply(results) {
		q.tx.RollbackTo(mark)
		q.ogr = ogr // its codes go to the next change set: no gap in the published ones
		return results, code, false
	}
	for _, r := range results {
		for _, c := range r.Changes {
			if c.Entity == "appellation" && (c.Action == "added" || c.Field == "libelle") {
				q.labels[search.LabelKey(c.Libelle)] = c.CodeOgr
			}
		}
	}
	return results, code, true
}

func allApply(results []changeset.Result) bool {
	for _, r := range results {
		if !r.Applies {
			return false
		}
	}
	return true
}

// millisNow is the time of a publication (or of a step of a release), to the millisecond: both
// databases keep it exactly, so that an answer read back is the answer given.
func millisNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// lastOGR is the last code OGR the platform gave (below its range: none yet).
func (s *Service) lastOGR(ctx context.Context) (int64, error) {
	last, err := s.store.Counter(ctx, ogrCounter)
	return max(last, FirstLocalOGR), err
}

// draft is the next version being made of the change sets run on st: their changelog and
// what each of them answers once published.
type draft struct {
	st      *State
	number  int
	at      time.Time
	entries []store.ChangeEntry
	changes []changeset.Change // the entries' changes, as the engine made them
	records []store.ChangeSetRecord
}

func newDraft(st *State, now time.Time) *draft {
	return &draft{st: st, number: st.Version() + 1, at: now}
}

// add publishes a change set in the version: its changes go to the changelog under its own
// change-set and request ids, its answer to its record. release is the release it waited
// in (0: none).
func (d *draft) add(req ChangeSetRequest, hash, code string, results []changeset.Result, release int) *Publication {
	pub := &Publication{ID: req.ID, RequestID: req.RequestID, CodeRome: code, BaseVersion: req.BaseVersion, Version: d.number,
		Release: release, PublishedAt: d.at, Results: results, Changes: []changeset.Change{}}
	for _, r := range results {
		for _, c := range r.Changes {
			pub.Changes = append(pub.Changes, c)
			d.changes = append(d.changes, c)
			d.entries = append(d.entries, store.ChangeEntry{Version: d.number, Seq: len(d.entries) + 1, CodeRome: c.CodeRome,
				ChangesetID: req.ID, RequestID: req.RequestID, Entry: store.MarshalEntry(c)})
		}
	}
	d.records = append(d.records, store.ChangeSetRecord{ID: req.ID, RequestID: req.RequestID, CodeRome: code,
		BaseVersion: req.BaseVersion, Version: d.number, PayloadHash: hash, Response: mustJSON(pub), CreatedAt: d.at})
	return pub
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	return string(b)
}

// versionLabel names a version made on st: the official release it builds on and what made
// it (not every change set since: they are in /v1/versions).
func versionLabel(st *State, madeBy string) string {
	official, _, _ := strings.Cut(st.Snap.Version.Label, " + ")
	return official + " + " + madeBy
}

// commit stores the draft as a new version in one transaction (the rows staged in q, the
// changelog, the change-set records, the correspondences, the counter of codes OGR, and
// what p says of its origin: label, source, release), then serves it.
func (s *Service) commit(ctx context.Context, d *draft, q *sequence, p store.Publication) error {
	p.Version.Number, p.Version.PublishedAt, p.Version.LastModified = d.number, d.at, d.at
	p.Rows, p.Entries, p.ChangeSets = q.tx.Changes(), d.entries, d.records
	snap, err := d.st.Snap.Apply(p.Version.Snapshot(), p.Rows)
	if err != nil {
		return err
	}
	// The replacement is read in the new version: a change set may have renamed it.
	p.Correspondences = correspondences(d.entries, d.changes, snap)
	p.Counters = map[string]int64{ogrCounter: q.ogr}
	err = s.store.Publish(ctx, p)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrReleaseMoved) {
		return errRaced
	}
	if err != nil {
		return err
	}
	s.serve(newState(snap))
	return nil
}

// errRaced is a write that another replica got in before: it stored a version (or moved
// the release) since the one this replica serves. The caller catches up and runs again.
var errRaced = errors.New("another replica stored a version first")
