package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// FirstLocalOGR starts the range of codes OGR this platform gives to new items: official
// codes are below 1,000,000 (v460's highest is 515,351), so the two never collide.
const FirstLocalOGR = 90_000_000

const ogrCounter = "local_ogr"

// Service owns the current referential version.
type Service struct {
	store *store.Store
	log   *slog.Logger
	cfg   Config

	current   atomic.Pointer[State]
	served    chan struct{} // a new state is served (buffered: one wakes the warming, however many)
	warm      atomic.Bool   // a version served since start has been warmed whole (ReadyCheck)
	publishMu sync.Mutex    // one publication at a time in this process; the database guards across processes

	pastMu sync.Mutex
	past   map[int]*State // versions read back for time travel, a few at a time

	next nextCache // the next release, as ?version=next reads it

	metrics *metrics
}

// Config is how a deployment publishes.
type Config struct {
	// Publication is refclient.PublicationImmediate (every accepted change set is a version
	// at once; the zero value too) or refclient.PublicationReleaseTrains (accepted change
	// sets wait in the next release).
	Publication string
	// Meter records the referential's metrics (metrics.go); nil is the global meter provider's.
	Meter metric.Meter
}

// ReleaseTrains tells whether accepted change sets wait in releases.
func (s *Service) ReleaseTrains() bool {
	return s.cfg.Publication == refclient.PublicationReleaseTrains
}

// ErrEmpty means no release has been imported yet.
var ErrEmpty = store.ErrNoVersion

// New creates the service; call Load before serving.
func New(s *store.Store, log *slog.Logger, cfg Config) *Service {
	svc := &Service{store: s, log: log, cfg: cfg, past: map[int]*State{}, served: make(chan struct{}, 1)}
	svc.metrics = newMetrics(svc, cfg.Meter)
	return svc
}

// Load reads the latest version from the database.
func (s *Service) Load(ctx context.Context) error {
	latest, err := s.store.Latest(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	snap, err := s.store.Load(ctx, latest.Number)
	if err != nil {
		return err
	}
	s.serve(newState(snap))
	s.log.Info("referential loaded", "version", latest.Number, "ms", time.Since(start).Milliseconds())
	return nil
}

// Current is the latest version, or nil before Load succeeded.
func (s *Service) Current() *State { return s.current.Load() }

// serve makes st the version served, and wakes the warming (Follow).
func (s *Service) serve(st *State) {
	s.current.Store(st)
	select {
	case s.served <- struct{}{}:
	default: // the warming is due already, and takes the latest
	}
}

// maxPastStates bounds the memory spent on time travel.
const maxPastStates = 3

// At returns the state of version n (the current one, or one read back from the database).
// A version after the current one is one another replica stored that this one has not
// heard of yet (a client read it there, or in a request's outcome): it catches up, a few
// rows where reading the version whole would take the whole referential.
func (s *Service) At(ctx context.Context, n int) (*State, bool, error) {
	if behind(s.Current(), n) {
		// Checked first without the lock: a version that does not exist (yet) holds no
		// publication back.
		if _, ok, err := s.store.Version(ctx, n); err != nil || !ok {
			return nil, false, err
		}
	}
	cur, err := s.servedAfter(ctx, n)
	if err != nil {
		return nil, false, err
	}
	if n == cur.Version() {
		return cur, true, nil
	}
	s.pastMu.Lock()
	defer s.pastMu.Unlock()
	if st, ok := s.past[n]; ok {
		return st, true, nil
	}
	if _, ok, err := s.store.Version(ctx, n); err != nil || !ok {
		return nil, false, err
	}
	snap, err := s.store.Load(ctx, n)
	if err != nil {
		return nil, false, err
	}
	if len(s.past) >= maxPastStates {
		for k := range s.past {
			delete(s.past, k)
			break
		}
	}
	st := newState(snap)
	s.past[n] = st
	return st, true, nil
}

// Versions lists every version.
func (s *Service) Versions(ctx context.Context) ([]store.VersionRecord, error) {
	return s.store.Versions(ctx)
}

// ChangeSetRequest is the body of POST /v1/changesets (and, without id, of :validate).
type ChangeSetRequest = refclient.ChangeSet

// Validation is the dry run of a change set.
type Validation = refclient.Validation

// InvalidError is a change set that cannot even be tried (no operations, say).
type InvalidError struct{ Field, Code, Msg string }

func (e *InvalidError) Error() string { return e.Msg }

func checkShape(req ChangeSetRequest) error {
	if len(req.Operations) == 0 {
		return &InvalidError{"operations", "operations_required", "a change set needs at least one operation"}
	}
	if req.CodeRome == "" && req.Operations[0].Op != refclient.OpCreateFiche {
		return &InvalidError{"codeRome", "field_required", "codeRome is required unless the first operation is create_fiche"}
	}
	return nil
}

// Validate dry-runs a change set on the current version. Without documents, the answer
// leaves out the fiche before and after (the request workflow's checks need only the
// results, and each fiche weighs tens of kilobytes).
func (s *Service) Validate(ctx context.Context, req ChangeSetRequest, documents bool) (*Validation, error) {
	st, err := s.servedAfter(ctx, req.BaseVersion)
	if err != nil {
		return nil, err
	}
	if err := checkShape(req); err != nil {
		return nil, err
	}
	// A dry run runs on the current version: 0 means it; another base must exist.
	if req.BaseVersion != 0 && (req.BaseVersion < 1 || req.BaseVersion > st.Version()) {
		return nil, baseVersionError(st.Version())
	}
	last, err := s.lastOGR(ctx)
	if err != nil {
		return nil, err
	}
	q := newSequence(st, last)
	results, code := q.run(req)
	if err := s.impacts(ctx, st, q.tx, req.Operations, results); err != nil {
		return nil, err
	}
	v := &Validation{Version: st.Version(), CodeRome: code, Applies: true, Results: results, Diff: []changeset.Change{}}
	for _, r := range results {
		v.Applies = v.Applies && r.Applies
		v.Diff = append(v.Diff, r.Changes...)
	}
	if documents {
		v.Before = ficheJSON(st.Snap, req.CodeRome, st.Version())
		v.Preview = ficheJSON(q.tx, code, st.Version())
	} else {
		v.Before, v.Preview = json.RawMessage("null"), json.RawMessage("null")
	}
	return v, nil
}

// Publication is the answer to POST /v1/changesets, stored with the change set so that a
// retry gets exactly the same answer.
type Publication = refclient.Publication

// ficheJSON encodes a fiche as a view shows it, or null when it does not exist there.
func ficheJSON(v refdata.View, code string, version int) json.RawMessage {
	f, ok := fiche.Build(v, code, version)
	if code == "" || !ok {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(f)
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	return b
}

// ConflictError is a change set one of whose operations no longer applies.
type ConflictError struct {
	Current int
	Results []changeset.Result
}

func (e *ConflictError) Error() string {
	for _, r := range e.Results {
		if !r.Applies {
			return fmt.Sprintf("operation %s (%s) does not apply to version %d: %s", r.OperationID, r.Op, e.Current, r.Reason)
		}
	}
	return "conflict"
}

// ErrIDReused is a change-set id sent again with another content.
var ErrIDReused = errors.New("this change-set id was already used for a different change set")

// baseVersionError is a base version the referential does not have: not in [1, current].
func baseVersionError(current int) *InvalidError {
	return &InvalidError{"baseVersion", "invalid_base_version",
		fmt.Sprintf("baseVersion must be a version of the referential, between 1 and %d (the current one)", current)}
}

func hashRequest(req ChangeSetRequest) string {
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Publish applies a change set atomically and returns the new version; under release
// trains, it stages it in the open release instead (pub.Staged()). It is idempotent by
// change-set id: the same change set again returns the stored answer (replayed = true).
func (s *Service) Publish(ctx context.Context, req ChangeSetRequest) (pub *Publication, replayed bool, err error) {
	pub, replayed, err = s.publish(ctx, req)
	outcome := "published"
	var (
		conflict *ConflictError
		invalid  *InvalidError
	)
	switch {
	case errors.As(err, &conflict):
		outcome = "conflict"
	case errors.As(err, &invalid), errors.Is(err, ErrIDReused):
		outcome = "invalid"
	case err != nil:
		outcome = "error"
	case replayed:
		outcome = "replayed"
	case pub.Staged():
		outcome = "staged"
	}
	s.metrics.publication(ctx, outcome)
	return pub, replayed, err
}

func (s *Service) publish(ctx context.Context, req ChangeSetRequest) (pub *Publication, replayed bool, err error) {
	if req.ID == "" {
		return nil, false, &InvalidError{"id", "field_required", "a change set needs an id (it makes retries safe)"}
	}
	if err := checkShape(req); err != nil {
		return nil, false, err
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	hash := hashRequest(req)
	for attempt := 1; ; attempt++ {
		pub, replayed, err = s.publishOnce(ctx, req, hash)
		if !errors.Is(err, errRaced) || attempt == maxRaces {
			return pub, replayed, err
		}
		// Another replica stored a version first: run the change set again on it, or
		// answer it if that replica published this very change set (a retry sent there).
		if err := s.afterRace(ctx, attempt); err != nil {
			return nil, false, err
		}
	}
}

// maxRaces bounds how many times a publication runs again because other replicas
// published first; past it, the caller retries later.
const maxRaces = 10

// afterRace catches up after the attempt-th race lost to another replica, first waiting
// a random while that grows with attempt: two replicas that keep publishing would
// otherwise keep beating the same one to the next version.
func (s *Service) afterRace(ctx context.Context, attempt int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(rand.N(time.Duration(attempt) * 10 * time.Millisecond)):
	}
	return s.catchUp(ctx)
}

func (s *Service) publishOnce(ctx context.Context, req ChangeSetRequest, hash string) (pub *Publication, replayed bool, err error) {
	if prev, prevHash, found, err := s.answer(ctx, req.ID); err != nil {
		return nil, false, err
	} else if found {
		if prevHash != hash {
			return nil, false, ErrIDReused
		}
		return prev, true, nil
	}
	st := s.Current()
	if behind(st, req.BaseVersion) {
		if st, err = s.caughtUp(ctx); err != nil {
			return nil, false, err
		}
	}
	if req.BaseVersion < 1 || req.BaseVersion > st.Version() {
		return nil, false, baseVersionError(st.Version())
	}
	// A change set based on an older version is re-run on the current one: it publishes
	// (or is staged) if every operation still applies, and is a conflict otherwise.
	last, err := s.lastOGR(ctx)
	if err != nil {
		return nil, false, err
	}
	q := newSequence(st, last)
	results, code, applies := q.apply(req)
	if !applies {
		return nil, false, &ConflictError{Current: st.Version(), Results: results}
	}
	now := millisNow()
	if s.ReleaseTrains() {
		pub, err := s.stage(ctx, req, hash, results, now)
		return pub, false, err
	}
	d := newDraft(st, now)
	pub = d.add(req, hash, code, results, 0)
	csID, reqID := req.ID, req.RequestID
	err = s.commit(ctx, d, q, store.Publication{Version: store.VersionRecord{Label: versionLabel(st, req.ID), Source: store.SourceChangeSet,
		ChangesetID: &csID, RequestID: &reqID}})
	if err != nil {
		return nil, false, err
	}
	s.log.Info("change set published", "changeset", req.ID, "request", req.RequestID, "codeRome", code, "version", d.number, "entries", len(d.entries))
	return pub, false, nil
}

// answer reads what change set id was answered, and the hash of its payload: its
// publication, or, staged in a release that did not publish it (yet), its staging.
func (s *Service) answer(ctx context.Context, id string) (pub *Publication, hash string, found bool, err error) {
	rec, published, err := s.store.ChangeSet(ctx, id)
	if err != nil {
		return nil, "", false, err
	}
	response := ""
	if published {
		response, hash = rec.Response, rec.PayloadHash
	} else {
		staged, ok, err := s.store.StagedChangeSet(ctx, id)
		if err != nil || !ok {
			return nil, "", false, err
		}
		response, hash = staged.Response, staged.PayloadHash
	}
	var p Publication
	if err := json.Unmarshal([]byte(response), &p); err != nil {
		return nil, "", false, err
	}
	return &p, hash, true, nil
}

// ChangeSet returns the answer a change set got: its publication, or (Version 0) its
// staging in a release.
func (s *Service) ChangeSet(ctx context.Context, id string) (*Publication, bool, error) {
	p, _, ok, err := s.answer(ctx, id)
	return p, ok, err
}

// HistoryEntry is a change of a fiche, with the version and request it came from.
type HistoryEntry struct {
	Version     int              `json:"version"`
	ChangesetID string           `json:"changesetId"`
	RequestID   string           `json:"requestId,omitempty"`
	Change      changeset.Change `json:"change"`
}

func decodeEntries(es []store.ChangeEntry) ([]HistoryEntry, error) {
	out := make([]HistoryEntry, 0, len(es))
	for _, e := range es {
		h := HistoryEntry{Version: e.Version, ChangesetID: e.ChangesetID, RequestID: e.RequestID}
		if err := json.Unmarshal([]byte(e.Entry), &h.Change); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// FicheHistory lists every change of a fiche since the import.
func (s *Service) FicheHistory(ctx context.Context, code string) ([]HistoryEntry, error) {
	es, err := s.store.FicheHistory(ctx, code)
	if err != nil {
		return nil, err
	}
	return decodeEntries(es)
}

// VersionDelta is what one version changed: in ROME terms and as rows of the official files.
type VersionDelta struct {
	Version     int              `json:"version"`
	Label       string           `json:"label"`
	Source      string           `json:"source"`
	ChangesetID *string          `json:"changesetId"`
	RequestID   *string          `json:"requestId"`
	PublishedAt time.Time        `json:"publishedAt"`
	Changes     []HistoryEntry   `json:"changes"`
	RowsAdded   []store.RowDelta `json:"rowsAdded"`
	RowsRemoved []store.RowDelta `json:"rowsRemoved"`
}

// Delta returns what version n changed; ok is false for an unknown version.
func (s *Service) Delta(ctx context.Context, n int) (*VersionDelta, bool, error) {
	v, ok, err := s.store.Version(ctx, n)
	if err != nil || !ok {
		return nil, false, err
	}
	es, err := s.store.VersionEntries(ctx, n)
	if err != nil {
		return nil, false, err
	}
	changes, err := decodeEntries(es)
	if err != nil {
		return nil, false, err
	}
	d := &VersionDelta{Version: n, Label: v.Label, Source: v.Source, ChangesetID: v.ChangesetID, RequestID: v.RequestID,
		PublishedAt: v.PublishedAt, Changes: changes, RowsAdded: []store.RowDelta{}, RowsRemoved: []store.RowDelta{}}
	// The first import's "delta" is the whole referential: use the export for that.
	if prior, err := s.store.Versions(ctx); err == nil && len(prior) > 0 && prior[0].Number == n {
		return d, true, nil
	}
	added, removed, err := s.store.VersionRows(ctx, n)
	if err != nil {
		return nil, false, err
	}
	if added != nil {
		d.RowsAdded = added
	}
	if removed != nil {
		d.RowsRemoved = removed
	}
	return d, true, nil
}

// VersionFile returns the version.txt of version n: the official one for an import, one
// written in the same format for a version published here.
func (s *Service) VersionFile(ctx context.Context, n int) ([]byte, error) {
	v, ok, err := s.store.Version(ctx, n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("version %d does not exist", n)
	}
	if v.VersionFile != "" {
		return []byte(v.VersionFile), nil
	}
	return formatVersionFile(v), nil
}

// Follow keeps this process on the latest version: it catches up when another process (an
// import, another replica) stores one, and warms the documents of each version it serves.
// PostgreSQL announces each version as it commits (store.WatchVersions), and the poll
// every interval is then a safety net; on SQLite, which one process serves, it is the way.
func (s *Service) Follow(ctx context.Context, every time.Duration, shapes map[Shape]func(*fiche.Fiche) any) {
	go s.warmEach(ctx, shapes)
	announced := make(chan struct{}, 1)
	if s.store.AnnouncesVersions() {
		go func() {
			err := s.store.WatchVersions(ctx, s.log, func(n int) {
				if cur := s.Current(); n > 0 && cur != nil && n <= cur.Version() {
					return // this replica stored it, or has caught up already
				}
				select {
				case announced <- struct{}{}:
				default: // a catch-up is due already, and takes every version
				}
			})
			if err != nil {
				s.log.Error("new versions are not heard of: following them by polling only", "error", err)
			}
		}()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-announced:
		}
		s.publishMu.Lock()
		err := s.catchUp(ctx)
		s.publishMu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Error("cannot catch up with the latest version", "error", err)
		}
	}
}

// warmEach warms each version served, apart from the catch-up: warming takes seconds on a
// busy machine, and a version announced meanwhile is served at once, its documents built
// as they are read. Once the replica is ready, a version replaced while it warms is left
// for the newer one; before, the warming goes through, so that versions published in a
// quick succession cannot keep the replica from ever being ready.
func (s *Service) warmEach(ctx context.Context, shapes map[Shape]func(*fiche.Fiche) any) {
	warmed := 0
	for {
		if st := s.Current(); st != nil && st.Version() != warmed {
			start := time.Now()
			wanted := func() bool { return ctx.Err() == nil && (s.Current() == st || !s.warm.Load()) }
			if st.warmWhile(shapes, wanted) {
				warmed = st.Version()
				s.warm.Store(true)
				s.log.Info("search indexes and fiche documents built", "version", warmed, "ms", time.Since(start).Milliseconds())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.served:
		}
	}
}

// behind tells whether a change set based on base waits for this replica to catch up:
// it serves no version yet, or the caller read one another replica stored, which this one
// has not heard of yet.
func behind(st *State, base int) bool { return st == nil || base > st.Version() }

// servedAfter returns the version served to a caller that read version base: the current
// one, or when this replica is behind, the one it serves once it caught up.
func (s *Service) servedAfter(ctx context.Context, base int) (*State, error) {
	if st := s.Current(); !behind(st, base) {
		return st, nil
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	return s.caughtUp(ctx)
}

// caughtUp catches up and returns the version served then; the caller holds publishMu.
func (s *Service) caughtUp(ctx context.Context) (*State, error) {
	if err := s.catchUp(ctx); err != nil {
		return nil, err
	}
	if st := s.Current(); st != nil {
		return st, nil
	}
	return nil, ErrEmpty
}

// catchUp serves the latest stored version; the caller holds publishMu. From the version
// served, it applies each one stored since (the rows it changed): reading the whole
// referential again would take longer, and hold two copies of it in memory meanwhile. It
// reads the latest whole when nothing is served yet, or when a version does not apply.
func (s *Service) catchUp(ctx context.Context) error {
	cur := s.Current()
	if cur == nil {
		if err := s.Load(ctx); !errors.Is(err, ErrEmpty) {
			return err
		}
		return nil
	}
	newer, err := s.store.VersionsAfter(ctx, cur.Version())
	if err != nil || len(newer) == 0 {
		return err
	}
	start := time.Now()
	snap := cur.Snap
	for _, v := range newer {
		if snap, err = s.store.Advance(ctx, snap, v); err != nil {
			s.log.Warn("a stored version does not apply to the one before it: reading the latest whole", "version", v.Number, "error", err)
			return s.Load(ctx)
		}
	}
	s.serve(newState(snap))
	s.log.Info("caught up with the versions stored by another process", "from", cur.Version(), "version", snap.Version.Number,
		"ms", time.Since(start).Milliseconds())
	return nil
}

// ReadyCheck reports not ready while no release is loaded.
// Then it is ready once Follow has warmed the version it started with, so that its first
// reads and searches are as fast as the rest; versions published later are warmed while
// they are served.
func (s *Service) ReadyCheck() httpx.Check {
	return httpx.Check{Name: "referential", Run: func(context.Context) error {
		switch {
		case s.Current() == nil:
			return ErrEmpty
		case !s.warm.Load():
			return errWarming
		}
		return nil
	}}
}

var errWarming = errors.New("building the search indexes and fiche documents")
