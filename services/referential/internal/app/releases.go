package app

// Release trains: under PUBLICATION_MODE=release_trains, an accepted change set that applies
// to the current version waits in the open release. A release is frozen (the next one opens),
// validated (its change sets re-run together, in the order they were staged: those that no
// longer apply go back to their moderators) and published as one version, with French notes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/releasenotes"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// The release documents are the referential's contract (refclient).
type (
	Release         = refclient.Release
	StagedChangeSet = refclient.StagedChangeSet
)

var (
	// ErrReleaseTrainsOff: the deployment publishes every accepted change set at once.
	ErrReleaseTrainsOff = errors.New("this deployment publishes every accepted change set at once (PUBLICATION_MODE=immediate): it has no release trains")
	// ErrReleaseEmpty: the open release holds no change set, there is nothing to freeze.
	ErrReleaseEmpty = errors.New("no change set is staged in the open release: there is nothing to freeze")
	// ErrReleaseNotFound: no such release, or one the caller may not see.
	ErrReleaseNotFound = errors.New("no such release")
)

// ReleaseStepError is a step that the release's status does not allow: validating or
// publishing a release still open.
type ReleaseStepError struct {
	Number int
	Status string
	Step   string // "validated" or "published"
}

func (e *ReleaseStepError) Error() string {
	return fmt.Sprintf("release %d is still open: freeze it (POST /v1/releases/next:freeze) before it is %s", e.Number, e.Step)
}

// stage records req, which applies to the current version, at the end of the open release.
// The answer names the release; what it changes (and a new fiche's code) is known when the
// release publishes it, so its results are the verdicts alone.
func (s *Service) stage(ctx context.Context, req ChangeSetRequest, hash string, results []changeset.Result, now time.Time) (*Publication, error) {
	pub := &Publication{ID: req.ID, RequestID: req.RequestID, CodeRome: req.CodeRome, BaseVersion: req.BaseVersion,
		PublishedAt: now, Results: verdictsOnly(results), Changes: []changeset.Change{}}
	for attempt := 1; ; attempt++ {
		n, err := s.store.OpenRelease(ctx, now)
		if err != nil {
			return nil, err
		}
		pub.Release = n
		err = s.store.Stage(ctx, store.StagedChangeSet{ID: req.ID, ReleaseNumber: n, RequestID: req.RequestID,
			RequestTitle: req.RequestTitle, CodeRome: req.CodeRome, Payload: mustJSON(req), PayloadHash: hash,
			Response: mustJSON(pub), Status: refclient.StagedWaiting, StagedAt: now})
		if errors.Is(err, store.ErrReleaseMoved) && attempt < 3 {
			continue // frozen meanwhile: the release open now takes it
		}
		if err != nil {
			return nil, err
		}
		s.log.Info("change set staged", "changeset", req.ID, "request", req.RequestID, "codeRome", req.CodeRome, "release", n)
		return pub, nil
	}
}

// verdictsOnly is results without their changes.
func verdictsOnly(results []changeset.Result) []changeset.Result {
	out := make([]changeset.Result, len(results))
	for i, r := range results {
		r.Changes = []changeset.Change{}
		out[i] = r
	}
	return out
}

// releaseView is release r as the API shows it, with its change sets (css may hold those
// of other releases too).
func releaseView(r store.Release, css []store.StagedChangeSet) (*Release, error) {
	out := &Release{Number: r.Number, Status: r.Status, OpenedAt: r.OpenedAt.UTC(), FrozenAt: utc(r.FrozenAt),
		PublishedAt: utc(r.PublishedAt), Version: r.Version, Notes: r.Notes, ChangeSets: []StagedChangeSet{}}
	for _, cs := range css {
		if cs.ReleaseNumber != r.Number {
			continue
		}
		v := StagedChangeSet{ID: cs.ID, RequestID: cs.RequestID, RequestTitle: cs.RequestTitle, CodeRome: cs.CodeRome,
			StagedAt: cs.StagedAt.UTC(), Status: cs.Status}
		if cs.Results != "" {
			if err := json.Unmarshal([]byte(cs.Results), &v.Results); err != nil {
				return nil, err
			}
		}
		out.ChangeSets = append(out.ChangeSets, v)
	}
	return out, nil
}

// Releases lists the releases, newest first: the published ones only, unless signedIn.
func (s *Service) Releases(ctx context.Context, signedIn bool) ([]Release, error) {
	rs, err := s.store.Releases(ctx, !signedIn)
	if err != nil {
		return nil, err
	}
	numbers := make([]int, len(rs))
	for i, r := range rs {
		numbers[i] = r.Number
	}
	css, err := s.store.ReleaseChangeSets(ctx, numbers)
	if err != nil {
		return nil, err
	}
	out := make([]Release, 0, len(rs))
	for _, r := range rs {
		v, err := releaseView(r, css)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// Release reads release n; one not yet published only when signedIn (ErrReleaseNotFound
// otherwise, as for a release that does not exist).
func (s *Service) Release(ctx context.Context, n int, signedIn bool) (*Release, error) {
	r, found, err := s.store.Release(ctx, n)
	if err != nil {
		return nil, err
	}
	if !found || (!signedIn && r.Status != refclient.ReleasePublished) {
		return nil, ErrReleaseNotFound
	}
	css, err := s.store.ReleaseChangeSets(ctx, []int{n})
	if err != nil {
		return nil, err
	}
	return releaseView(r, css)
}

// NextRelease is the release that accepts staged change sets (opened on first use).
func (s *Service) NextRelease(ctx context.Context) (*Release, error) {
	if !s.ReleaseTrains() {
		return nil, ErrReleaseTrainsOff
	}
	n, err := s.store.OpenRelease(ctx, millisNow())
	if err != nil {
		return nil, err
	}
	return s.Release(ctx, n, true)
}

// FreezeRelease freezes the open release (the next one opens) and returns it; a release
// already frozen is returned as it is, so that a release workflow that runs again resumes it.
func (s *Service) FreezeRelease(ctx context.Context) (*Release, error) {
	if !s.ReleaseTrains() {
		return nil, ErrReleaseTrainsOff
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	n, err := s.store.FreezeRelease(ctx, millisNow())
	if errors.Is(err, store.ErrNothingStaged) {
		return nil, ErrReleaseEmpty
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("release frozen", "release", n)
	return s.Release(ctx, n, true)
}

// ValidateRelease re-runs the change sets of frozen release n that were not returned, in
// staged order, on the current version, each on the result of the earlier ones that apply:
// each is included, or returned with results that say what it conflicts with.
func (s *Service) ValidateRelease(ctx context.Context, n int) (*Release, error) {
	return s.releaseStep(ctx, n, "validated", func(run *releaseRun) error {
		verdicts := make([]store.Verdict, len(run.verdicts))
		included := 0
		for i, v := range run.verdicts {
			verdicts[i] = v.record(verdictsOnly(v.results), v.staged.CodeRome)
			if v.included {
				included++
			}
		}
		if err := s.store.RecordVerdicts(ctx, n, verdicts); errors.Is(err, store.ErrReleaseMoved) {
			return nil // published meanwhile: answered as it is
		} else if err != nil {
			return err
		}
		s.log.Info("release validated", "release", n, "version", run.st.Version(), "included", included, "returned", len(verdicts)-included)
		return nil
	})
}

// PublishRelease publishes the included change sets of frozen release n as one version,
// with its notes, and closes the release. It runs them again (the current version is the
// one they go into): one that no longer applies is returned then. A release in which
// nothing applies is closed without a version. A published release is answered as it is.
func (s *Service) PublishRelease(ctx context.Context, n int) (*Release, error) {
	return s.releaseStep(ctx, n, "published", func(run *releaseRun) error {
		d := newDraft(run.st, millisNow())
		outcome := &store.ReleaseOutcome{Number: n, PublishedAt: d.at}
		for _, v := range run.verdicts {
			if !v.included {
				outcome.Verdicts = append(outcome.Verdicts, v.record(verdictsOnly(v.results), v.staged.CodeRome))
				continue
			}
			pub := d.add(v.req, v.staged.PayloadHash, v.code, v.results, n)
			outcome.Verdicts = append(outcome.Verdicts, v.record(pub.Results, pub.CodeRome))
		}
		outcome.Notes = run.notes(d)
		var err error
		if len(d.records) == 0 {
			if err = s.store.CloseRelease(ctx, *outcome); errors.Is(err, store.ErrReleaseMoved) {
				err = errRaced
			}
		} else {
			err = s.commit(ctx, d, run.q, store.Publication{Version: store.VersionRecord{Label: versionLabel(run.st, fmt.Sprintf("release %d", n)),
				Source: store.SourceRelease, ReleaseNumber: &n}, Release: outcome})
		}
		if err != nil {
			return err
		}
		if len(d.records) > 0 {
			s.log.Info("release published", "release", n, "version", d.number, "included", len(d.records), "returned", len(run.verdicts)-len(d.records))
		} else {
			s.log.Info("release closed without a version: nothing in it applied", "release", n, "returned", len(run.verdicts))
		}
		return nil
	})
}

// releaseStep runs step on frozen release n, its change sets re-run on the current version,
// one publication at a time, and answers the release after it. A release published already
// is answered as it is: another run of the release workflow went further, and this one
// then tells the requests again (they ignore it) and ends cleanly.
func (s *Service) releaseStep(ctx context.Context, n int, name string, step func(*releaseRun) error) (*Release, error) {
	if !s.ReleaseTrains() {
		return nil, ErrReleaseTrainsOff
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	for attempt := 1; ; attempt++ {
		r, done, err := s.releaseFor(ctx, n, name)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		run, err := s.rerun(ctx, r)
		if err != nil {
			return nil, err
		}
		err = step(run)
		if err == nil {
			break
		}
		if !errors.Is(err, errRaced) || attempt == maxRaces {
			return nil, err
		}
		// Another replica stored a version, or took this step, first: catch up, then
		// answer the release as it is or run the step again on the latest version.
		if err := s.afterRace(ctx, attempt); err != nil {
			return nil, err
		}
	}
	return s.Release(ctx, n, true)
}

// releaseFor reads release n, which must be frozen to be validated or published; done
// tells that it is published already (each step then answers it as it is).
func (s *Service) releaseFor(ctx context.Context, n int, step string) (r store.Release, done bool, err error) {
	r, found, err := s.store.Release(ctx, n)
	switch {
	case err != nil:
		return r, false, err
	case !found:
		return r, false, ErrReleaseNotFound
	case r.Status == refclient.ReleasePublished:
		return r, true, nil
	case r.Status != refclient.ReleaseFrozen:
		return r, false, &ReleaseStepError{Number: n, Status: r.Status, Step: step}
	}
	return r, false, nil
}

// verdict is what running a release decided for one of its change sets.
type verdict struct {
	staged   store.StagedChangeSet
	req      ChangeSetRequest
	results  []changeset.Result
	code     string // the fiche it ended on (a new fiche's code, once it applies)
	included bool
}

// name names the change set and its request for people: change set cs-1 (request req-1 "Title").
func (v verdict) name() string {
	cs := v.staged
	switch {
	case cs.RequestID == "":
		return "change set " + cs.ID
	case cs.RequestTitle == "":
		return fmt.Sprintf("change set %s (request %s)", cs.ID, cs.RequestID)
	}
	return fmt.Sprintf("change set %s (request %s %q)", cs.ID, cs.RequestID, cs.RequestTitle)
}

// record is the verdict as the store keeps it, with these results and code ROME.
func (v verdict) record(results []changeset.Result, codeRome string) store.Verdict {
	status := refclient.StagedReturned
	if v.included {
		status = refclient.StagedIncluded
	}
	return store.Verdict{ID: v.staged.ID, RequestID: v.staged.RequestID, Status: status, CodeRome: codeRome, Results: mustJSON(results)}
}

// runStaged runs staged change sets in their order on st, each on the result of the earlier
// ones that apply; those a validation already returned keep their verdict and do not run.
func runStaged(st *State, lastOGR int64, css []store.StagedChangeSet) (*sequence, []verdict, error) {
	q := newSequence(st, lastOGR)
	out := make([]verdict, 0, len(css))
	for _, cs := range css {
		v := verdict{staged: cs}
		if err := json.Unmarshal([]byte(cs.Payload), &v.req); err != nil {
			return nil, nil, err
		}
		if cs.Status == refclient.StagedReturned {
			if err := json.Unmarshal([]byte(cs.Results), &v.results); err != nil {
				return nil, nil, err
			}
		} else {
			v.results, v.code, v.included = q.apply(v.req)
		}
		out = append(out, v)
	}
	return q, out, nil
}

// releaseRun is a frozen release's change sets run on the current version.
type releaseRun struct {
	number   int
	st       *State
	q        *sequence
	verdicts []verdict
}

// rerun runs the change sets of frozen release r on the current version; the results of
// those returned now say what they conflict with.
func (s *Service) rerun(ctx context.Context, r store.Release) (*releaseRun, error) {
	st := s.Current()
	if st == nil {
		return nil, ErrEmpty
	}
	css, err := s.store.ReleaseChangeSets(ctx, []int{r.Number})
	if err != nil {
		return nil, err
	}
	last, err := s.lastOGR(ctx)
	if err != nil {
		return nil, err
	}
	q, verdicts, err := runStaged(st, last, css)
	if err != nil {
		return nil, err
	}
	run := &releaseRun{number: r.Number, st: st, q: q, verdicts: verdicts}
	for i, v := range verdicts {
		if !v.included && v.staged.Status != refclient.StagedReturned {
			run.explain(i)
		}
	}
	return run, nil
}

// explain words why verdict i, which does not apply after the change sets before it, goes
// back to its moderators: it does not apply to the current version even alone, or it
// conflicts with the earlier change sets of the release on the same fiche or element.
func (run *releaseRun) explain(i int) {
	v := &run.verdicts[i]
	alone, _, appliesAlone := newSequence(run.st, run.q.ogr).apply(v.req)
	if !appliesAlone {
		v.results = blame(alone, fmt.Sprintf("does not apply to version %d, even alone", run.st.Version()))
		return
	}
	mine := touchedBy(alone)
	mine[v.req.CodeRome] = true
	var culprits []string
	for _, e := range run.verdicts[:i] {
		if e.included && overlaps(mine, touchedBy(e.results)) {
			culprits = append(culprits, e.name())
		}
	}
	who := fmt.Sprintf("the change sets staged before it in release %d", run.number)
	if len(culprits) > 0 {
		who = strings.Join(culprits, ", ") + fmt.Sprintf(", staged before it in release %d", run.number)
	}
	v.results = blame(v.results, "conflicts with "+who)
}

// blame prefixes the reason of every operation that does not apply with why.
func blame(results []changeset.Result, why string) []changeset.Result {
	for i := range results {
		if !results[i].Applies {
			results[i].Reason = why + ": " + results[i].Reason
		}
	}
	return results
}

// touchedBy lists the fiches (codes ROME) and elements (codes OGR) the changes of results
// are about.
func touchedBy(results []changeset.Result) map[string]bool {
	out := map[string]bool{}
	for _, r := range results {
		for _, c := range r.Changes {
			out[c.CodeRome] = true
			if c.CodeOgr != "" {
				out[c.CodeOgr] = true
			}
		}
	}
	return out
}

func overlaps(a, b map[string]bool) bool {
	for k := range a {
		if k != "" && b[k] {
			return true
		}
	}
	return false
}

// notes words the release as d publishes it (package releasenotes): each included change
// set's changes by fiche, the fiches named as the version has them, and the returned ones.
func (run *releaseRun) notes(d *draft) string {
	r := releasenotes.Release{Number: run.number, PublishedAt: d.at, Fiches: map[string]string{}}
	if len(d.records) > 0 {
		r.Version = d.number
	}
	for _, v := range run.verdicts {
		req := releasenotes.Request{ID: v.staged.RequestID, Title: v.staged.RequestTitle, ChangeSetID: v.staged.ID}
		if !v.included {
			returned := releasenotes.Returned{Request: req}
			for _, res := range v.results {
				if !res.Applies {
					returned.Reasons = append(returned.Reasons, res.Reason)
				}
			}
			r.Returned = append(r.Returned, returned)
			continue
		}
		cs := releasenotes.ChangeSet{Request: req}
		for _, res := range v.results {
			for _, c := range res.Changes {
				if c.Entity == "coeurMetier" && c.Libelle == "" {
					c.Libelle = itemLabel(run.q, c.CodeOgr)
				}
				cs.Changes = append(cs.Changes, c)
				r.Fiches[c.CodeRome] = label(run.q.tx, romecsv.Fiche, c.CodeRome, "libelle_rome")
			}
		}
		r.Published = append(r.Published, cs)
	}
	return releasenotes.Render(r)
}

// itemLabel is the libellé of a compétence, savoir or contexte, as the release leaves it.
func itemLabel(q *sequence, ogr string) string {
	for _, it := range []struct{ dataset, column string }{
		{romecsv.Competence, "libelle_competence"}, {romecsv.Savoir, "libelle_savoir"}, {romecsv.Contexte, "libelle_cont_travail"},
	} {
		if l := label(q.tx, it.dataset, ogr, it.column); l != "" {
			return l
		}
	}
	return ""
}
