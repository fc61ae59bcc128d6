package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func open(t *testing.T, db *gorm.DB) *store.Store {
	t.Helper()
	s := store.New(db)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newRequest(id, org, code, title string, ops ...request.Operation) request.Request {
	r := request.Request{
		ID: id, Kind: request.KindModifyFiche, CodeRome: code, Title: title, Justification: "Offres d'emploi observées.",
		Status: request.StatusSubmitted, Org: org, SubmittedBy: request.Actor{Sub: "alice-" + org, Role: request.RolePartner, Org: org},
		CreatedAt: t0, UpdatedAt: t0,
	}
	for i, op := range ops {
		op.ID = fmt.Sprintf("op-%d", i+1)
		r.Operations = append(r.Operations, request.RequestOperation{Operation: op})
	}
	return r
}

func event(r request.Request, seq int, typ string, status request.Status) request.Event {
	r.Status = status
	r.UpdatedAt = t0.Add(time.Duration(seq) * time.Minute)
	return request.Event{RequestID: r.ID, Seq: seq, Type: typ, At: r.UpdatedAt, Actor: request.SystemActor,
		Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq)), Request: r}
}

func state(t *testing.T, s *store.Store, id string) (store.Row, request.Request) {
	t.Helper()
	row, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	var r request.Request
	if err := json.Unmarshal(row.State, &r); err != nil {
		t.Fatal(err)
	}
	return row, r
}

// A worker killed after a local activity recorded event N, but before its workflow task
// completed: the replayed workflow may take another path (an update arrived meanwhile) and
// record another event as N. The workflow's history is the truth: that event takes N, the
// lost task's later events go, the projection follows; nothing is dropped.
func TestRecordEventTakesTheSeqOfALostTask(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := t.Context()
		s := open(t, db)
		r := newRequest("r1", "opco-2i", "M1805", "Développeur Rust")
		record := func(e request.Event) bool {
			t.Helper()
			recorded, err := s.RecordEvent(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			return recorded == store.Replaced
		}
		record(event(r, 1, request.EventSubmitted, request.StatusChecking))
		record(event(r, 2, request.EventAssigned, request.StatusInReview))
		// The lost task: the channel created as 3, a message as 4.
		lostChannel := event(r, 3, request.EventTeamsChannelCreated, request.StatusInReview)
		lostChannel.Request.Teams = &request.TeamsChannel{ChannelID: "19:lost"}
		record(lostChannel)
		record(event(r, 4, request.EventMessagePosted, request.StatusInReview))

		// The replay: the decision first, then the channel again.
		decided := event(r, 3, request.EventDecided, request.StatusPublishing)
		if !record(decided) {
			t.Fatal("a different event under a taken seq was not reported as replacing it")
		}
		row, got := state(t, s, "r1")
		if row.LastSeq != 3 || row.Status != request.StatusPublishing || got.Teams != nil {
			t.Fatalf("projection after the replacement: seq %d status %s teams %+v", row.LastSeq, row.Status, got.Teams)
		}
		channel := event(r, 4, request.EventTeamsChannelCreated, request.StatusPublishing)
		if record(channel) {
			t.Fatal("the lost task's later event was not cleared")
		}
		h, err := s.History(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range h {
			types = append(types, e.Type)
		}
		want := []string{request.EventSubmitted, request.EventAssigned, request.EventDecided, request.EventTeamsChannelCreated}
		if !slices.Equal(types, want) {
			t.Fatalf("history %v, want %v", types, want)
		}
		if row, _ := state(t, s, "r1"); row.LastSeq != 4 || row.Status != request.StatusPublishing {
			t.Fatalf("projection: seq %d status %s", row.LastSeq, row.Status)
		}
	})
}

func TestRecordEventIsIdempotentAndNeverGoesBackwards(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := t.Context()
		s := open(t, db)
		r := newRequest("r1", "opco-2i", "M1805", "Développeur Rust", request.Operation{Op: refclient.OpAddAppellation, Libelle: "Développeur Rust"})
		if err := s.Create(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
		row, got := state(t, s, "r1")
		if row.LastSeq != 0 || row.Status != request.StatusSubmitted || got.Title != "Développeur Rust" || len(got.Operations) != 1 {
			t.Fatalf("submitted projection %+v %+v", row, got)
		}
		if string(mustField(t, row.State, "findings")) != "[]" || string(mustField(t, row.State, "questions")) != "[]" {
			t.Errorf("empty lists must be [] in %s", row.State)
		}

		for _, e := range []request.Event{event(r, 1, request.EventSubmitted, request.StatusSubmitted), event(r, 2, request.EventChecked, request.StatusAwaitingTriage)} {
			if _, err := s.RecordEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		// The activity is retried, or its task replayed later: the same event again changes nothing.
		again := event(r, 2, request.EventChecked, request.StatusAwaitingTriage)
		again.At = again.At.Add(time.Second)
		if recorded, err := s.RecordEvent(ctx, again); err != nil || recorded == store.Replaced {
			t.Fatalf("duplicate event: recorded %v, %v", recorded, err)
		}
		if row, _ := state(t, s, "r1"); row.LastSeq != 2 || row.Status != request.StatusAwaitingTriage {
			t.Fatalf("after a duplicate: seq %d status %s", row.LastSeq, row.Status)
		}

		// A late event older than what the projection holds is recorded in the history but
		// does not move the projection back.
		assigned := event(r, 4, request.EventAssigned, request.StatusInReview)
		assigned.Request.Assignee = "bob"
		if _, err := s.RecordEvent(ctx, assigned); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordEvent(ctx, event(r, 3, request.EventMessagePosted, request.StatusAwaitingTriage)); err != nil {
			t.Fatal(err)
		}
		row, got = state(t, s, "r1")
		if row.LastSeq != 4 || row.Status != request.StatusInReview || got.Assignee != "bob" || !got.UpdatedAt.Equal(t0.Add(4*time.Minute)) {
			t.Fatalf("projection went backwards: seq %d status %s assignee %q", row.LastSeq, row.Status, got.Assignee)
		}

		h, err := s.History(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for i, e := range h {
			types = append(types, e.Type)
			if e.Seq != i+1 || !e.At.Equal(t0.Add(time.Duration(i+1)*time.Minute)) || e.Actor != request.SystemActor || string(e.Data) != fmt.Sprintf(`{"n":%d}`, i+1) {
				t.Errorf("history[%d] = %+v", i, e)
			}
		}
		want := []string{request.EventSubmitted, request.EventChecked, request.EventMessagePosted, request.EventAssigned}
		if !slices.Equal(types, want) {
			t.Fatalf("history %v, want %v", types, want)
		}

		// An event of a request whose submission row is gone (its start looked failed but went
		// through) brings the projection back.
		lost := newRequest("r2", "opco-2i", "M1805", "Perdu")
		if _, err := s.RecordEvent(ctx, event(lost, 1, request.EventSubmitted, request.StatusChecking)); err != nil {
			t.Fatal(err)
		}
		if row, _ := state(t, s, "r2"); row.Status != request.StatusChecking || row.LastSeq != 1 {
			t.Fatalf("projection from an event: %+v", row)
		}
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing request: %v", err)
		}
	})
}

func mustField(t *testing.T, doc json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

func TestOverlaps(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := t.Context()
		s := open(t, db)
		remove := request.Operation{Op: refclient.OpRemoveAppellation, CodeOgr: "10944", Reason: "obsolète"}
		a := newRequest("a", "opco-2i", "M1805", "A", request.Operation{Op: refclient.OpAddAppellation, Libelle: "Développeur Rust"}, remove)
		b := newRequest("b", "opco-ep", "M1805", "B", remove, request.Operation{Op: refclient.OpSetText, Field: "definition", Text: "…"})
		// A new fiche made from the appellation a removes: no code ROME yet, yet the same job.
		c := newRequest("c", "opco-ep", "", "C: a new fiche from it", request.Operation{Op: refclient.OpCreateFiche,
			AppellationPrincipale: &refclient.AppellationPrincipale{CodeOgr: "10944"}})
		c.Kind = request.KindCreateFromKnown
		d := newRequest("d", "opco-2i", "M1805", "D", request.Operation{Op: refclient.OpAddAppellation, Libelle: "developpeur  RUST"})
		for _, r := range []request.Request{a, b, c, d} {
			if err := s.Create(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
		query := request.OverlapQuery{RequestID: "a", CodeRome: "M1805", Elements: request.ElementsOf([]request.Operation{a.Operations[0].Operation, remove})}
		got, err := s.FindOverlaps(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		want := []request.Overlap{
			{RequestID: "b", Title: "B", Status: request.StatusSubmitted, Elements: []string{"appellation:10944"}},
			{RequestID: "c", Title: "C: a new fiche from it", Status: request.StatusSubmitted, Elements: []string{"appellation:10944"}},
			{RequestID: "d", Title: "D", Status: request.StatusSubmitted, Elements: []string{"appellation-label:developpeur rust"}},
		}
		if !equalJSON(got, want) {
			t.Fatalf("overlaps %+v\nwant %+v", got, want)
		}

		// b is amended (its removal replaced): its elements follow its current operations.
		amended := event(b, 1, request.EventOperationsAmended, request.StatusInReview)
		amended.Request.Operations = []request.RequestOperation{{Operation: request.Operation{ID: "op-1", Op: refclient.OpSetTags}}}
		if _, err := s.RecordEvent(ctx, amended); err != nil {
			t.Fatal(err)
		}
		// d's operation is amended by the moderator: the amendment counts too.
		decided := event(d, 1, request.EventDecided, request.StatusPublishing)
		decided.Request.Operations[0].Decision = &request.Decision{Decision: request.DecisionAmended, Amendment: &request.Operation{Op: refclient.OpRemoveAppellation, CodeOgr: "10944"}}
		if _, err := s.RecordEvent(ctx, decided); err != nil {
			t.Fatal(err)
		}
		got, _ = s.FindOverlaps(ctx, query)
		want = []request.Overlap{
			{RequestID: "c", Title: "C: a new fiche from it", Status: request.StatusSubmitted, Elements: []string{"appellation:10944"}},
			{RequestID: "d", Title: "D", Status: request.StatusPublishing, Elements: []string{"appellation-label:developpeur rust", "appellation:10944"}},
		}
		if !equalJSON(got, want) {
			t.Fatalf("after amendments %+v\nwant %+v", got, want)
		}

		// A closed request overlaps nothing any more.
		if _, err := s.RecordEvent(ctx, event(d, 2, request.EventPublished, request.StatusPublished)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.FindOverlaps(ctx, query); len(got) != 1 || got[0].RequestID != "c" {
			t.Fatalf("a published request still overlaps: %+v", got)
		}
		// Elements of the fiche itself overlap on that fiche only.
		if got, _ := s.FindOverlaps(ctx, request.OverlapQuery{RequestID: "x", CodeRome: "M1806", Elements: []string{"text:definition", "appellation:10944"}}); !equalJSON(got, []request.Overlap{
			{RequestID: "a", Title: "A", Status: request.StatusSubmitted, Elements: []string{"appellation:10944"}},
			{RequestID: "c", Title: "C: a new fiche from it", Status: request.StatusSubmitted, Elements: []string{"appellation:10944"}},
		}) {
			t.Fatalf("overlap from M1806: %+v", got)
		}
		if got, err := s.FindOverlaps(ctx, request.OverlapQuery{RequestID: "x", CodeRome: "M1806"}); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("no elements: %+v %v", got, err)
		}
	})
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestDiscardAndIdempotency(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := t.Context()
		s := open(t, db)
		r := newRequest("r1", "opco-2i", "M1805", "T", request.Operation{Op: refclient.OpRemoveAppellation, CodeOgr: "10944"})
		key := store.Idempotency{Scope: "org:opco-2i", Key: "k1", BodyHash: "h1", RequestID: "r1", Status: 201, Response: json.RawMessage(`{"id":"r1"}`)}
		if err := s.Create(ctx, r, &key); err != nil {
			t.Fatal(err)
		}
		other := newRequest("r2", "opco-2i", "M1805", "T2")
		if err := s.Create(ctx, other, &store.Idempotency{Scope: "org:opco-2i", Key: "k1", BodyHash: "h2", RequestID: "r2", Status: 201, Response: json.RawMessage(`{}`)}); !errors.Is(err, store.ErrKeyTaken) {
			t.Fatalf("second use of a key: %v", err)
		}
		if _, err := s.Get(ctx, "r2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("a refused key still wrote its request")
		}
		rec, found, err := s.Idempotency(ctx, "org:opco-2i", "k1")
		if err != nil || !found || rec.BodyHash != "h1" || rec.RequestID != "r1" || rec.Status != 201 || string(rec.Response) != `{"id":"r1"}` || rec.CreatedAt.IsZero() {
			t.Fatalf("record %+v %v %v", rec, found, err)
		}
		if _, found, _ := s.Idempotency(ctx, "org:other", "k1"); found {
			t.Fatal("keys are per scope")
		}
		if err := s.SaveIdempotency(ctx, store.Idempotency{Scope: "org:opco-2i", Key: "k1", BodyHash: "h3", Status: 200, Response: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if rec, _, _ := s.Idempotency(ctx, "org:opco-2i", "k1"); rec.BodyHash != "h1" {
			t.Fatal("the first record must stay")
		}

		// A start that failed: the projection and its elements go.
		removed, err := s.Discard(ctx, "r1")
		if err != nil || !removed {
			t.Fatalf("discard: %v %v", removed, err)
		}
		if _, err := s.Get(ctx, "r1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("discarded request still readable")
		}
		if got, _ := s.FindOverlaps(ctx, request.OverlapQuery{CodeRome: "M1805", Elements: []string{"appellation:10944"}}); len(got) != 0 {
			t.Fatalf("a discarded request overlaps: %+v", got)
		}
		// Unless its workflow has recorded an event: then it did start.
		if err := s.Create(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordEvent(ctx, event(r, 1, request.EventSubmitted, request.StatusSubmitted)); err != nil {
			t.Fatal(err)
		}
		if removed, err := s.Discard(ctx, "r1"); err != nil || removed {
			t.Fatalf("discarded a running request: %v %v", removed, err)
		}
		// Creating an existing request leaves it as it is.
		if err := s.Create(ctx, newRequest("r1", "opco-2i", "M1805", "Replaced?"), nil); err != nil {
			t.Fatal(err)
		}
		if _, got := state(t, s, "r1"); got.Title != "T" {
			t.Fatalf("create overwrote a request: %q", got.Title)
		}
	})
}

func TestList(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := t.Context()
		s := open(t, db)
		// Submitted in this order: r1 … r7.
		specs := []struct {
			org, code, title, assignee string
			kind                       request.Kind
			status                     request.Status
		}{
			{"opco-2i", "M1805", "Développeur Rust", "", request.KindModifyFiche, request.StatusAwaitingTriage},
			{"opco-2i", "M1805", "Développeuse Go", "bob", request.KindModifyFiche, request.StatusInReview},
			{"opco-ep", "M1805", "Boulangère", "bob", request.KindModifyFiche, request.StatusInReview},
			{"opco-ep", "", "Nouveau métier : pilote de drone", "", request.KindCreateFromNew, request.StatusAwaitingTriage},
			{"opco-2i", "K2104", "Taux 100% garanti_x", "carol", request.KindModifyFiche, request.StatusPublished},
			{"opco-2i", "M1805", "Intégrateur web", "", request.KindModifyFiche, request.StatusWithdrawn},
			{"opco-ep", "H2909", "DÉVELOPPEUR embarqué", "", request.KindModifyFiche, request.StatusAwaitingPartner},
		}
		for i, sp := range specs {
			r := newRequest(fmt.Sprintf("r%d", i+1), sp.org, sp.code, sp.title)
			r.Kind, r.Assignee = sp.kind, sp.assignee
			if err := s.Create(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordEvent(ctx, event(r, 1, request.EventChecked, sp.status)); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name string
			f    store.Filter
			want []string
		}{
			{"all, newest first", store.Filter{}, []string{"r7", "r6", "r5", "r4", "r3", "r2", "r1"}},
			{"a partner sees its organisation", store.Filter{VisibleTo: "opco-ep"}, []string{"r7", "r4", "r3"}},
			{"org filter within the partner's scope", store.Filter{VisibleTo: "opco-ep", Org: "opco-2i"}, nil},
			{"org", store.Filter{Org: "opco-2i"}, []string{"r6", "r5", "r2", "r1"}},
			{"status", store.Filter{Status: request.StatusInReview}, []string{"r3", "r2"}},
			{"kind", store.Filter{Kind: request.KindCreateFromNew}, []string{"r4"}},
			{"code ROME", store.Filter{CodeRome: "M1805", Status: request.StatusInReview, VisibleTo: "opco-2i"}, []string{"r2"}},
			{"assignee", store.Filter{Assignee: "bob"}, []string{"r3", "r2"}},
			{"text, case and accents ignored", store.Filter{Text: "developpeur"}, []string{"r7", "r1"}},
			{"every word must match", store.Filter{Text: "Développeur  rust"}, []string{"r1"}},
			{"words match inside words", store.Filter{Text: "velop"}, []string{"r7", "r2", "r1"}},
			{"the justification is searched", store.Filter{Text: "offres OBSERVÉES", Org: "opco-ep"}, []string{"r7", "r4", "r3"}},
			{"punctuation separates words", store.Filter{Text: "100%_garanti!"}, []string{"r5"}},
			{"no match", store.Filter{Text: "boulanger rust"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tc.f.Limit = 50
				p, err := s.List(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(t, p.Items); !slices.Equal(got, tc.want) || p.NextCursor != "" || p.Total != int64(len(tc.want)) {
					t.Fatalf("got %v (next %q, total %d), want %v", got, p.NextCursor, p.Total, tc.want)
				}
			})
		}

		// Pages of 3 follow each other without gap or repetition, also with a filter.
		var all []string
		f := store.Filter{Limit: 3}
		for pages := 0; ; pages++ {
			p, err := s.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ids(t, p.Items)...)
			if p.Total != 7 {
				t.Errorf("page %d: total %d, want 7 (every page counts all the matches)", pages+1, p.Total)
			}
			if p.NextCursor == "" {
				if pages != 2 {
					t.Errorf("%d pages for 7 requests by 3", pages+1)
				}
				break
			}
			f.Cursor = p.NextCursor
		}
		if !slices.Equal(all, []string{"r7", "r6", "r5", "r4", "r3", "r2", "r1"}) {
			t.Fatalf("paged listing %v", all)
		}
		p, err := s.List(ctx, store.Filter{Org: "opco-2i", Limit: 2})
		if err != nil || !slices.Equal(ids(t, p.Items), []string{"r6", "r5"}) || p.NextCursor == "" {
			t.Fatalf("first filtered page %v %q %v", ids(t, p.Items), p.NextCursor, err)
		}
		p, err = s.List(ctx, store.Filter{Org: "opco-2i", Limit: 2, Cursor: p.NextCursor})
		if err != nil || !slices.Equal(ids(t, p.Items), []string{"r2", "r1"}) || p.NextCursor != "" || p.Total != 4 {
			t.Fatalf("second filtered page %v %q total %d %v", ids(t, p.Items), p.NextCursor, p.Total, err)
		}
		for _, bad := range []string{"zz", "cDA", "cC0x", "!!"} {
			if _, err := s.List(ctx, store.Filter{Limit: 2, Cursor: bad}); !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("cursor %q: %v", bad, err)
			}
		}
	})
}

func ids(t *testing.T, docs []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, d := range docs {
		var r request.Request
		if err := json.Unmarshal(d, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.ID)
	}
	return out
}

// at records the event of seq moving r to status at the given time.
func at(t *testing.T, s *store.Store, r request.Request, seq int, status request.Status, when time.Time) {
	t.Helper()
	r.Status, r.UpdatedAt = status, when
	e := request.Event{RequestID: r.ID, Seq: seq, Type: request.EventMessagePosted, At: when, Actor: request.SystemActor, Request: r}
	if _, err := s.RecordEvent(t.Context(), e); err != nil {
		t.Fatal(err)
	}
}

// waitingSince lists the requests waiting in status since before the time given.
func waitingSince(t *testing.T, s *store.Store, f store.Filter, waits ...store.Wait) ([]string, int64) {
	t.Helper()
	f.Waits, f.Limit = waits, 50
	p, err := s.List(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return ids(t, p.Items), p.Total
}

func TestWaitsMeasureTheTimeInTheCurrentStatus(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		s := open(t, db)
		h := time.Hour
		triaged := newRequest("triaged", "opco-2i", "M1805", "A")   // awaiting triage since t0+1h
		chatty := newRequest("chatty", "opco-2i", "M1805", "B")     // the same, with later events in that status
		reviewed := newRequest("reviewed", "opco-ep", "M1805", "C") // awaiting triage, then in review since t0+5h
		back := newRequest("back", "opco-ep", "M1805", "D")         // in review, awaiting the partner, in review again at t0+6h
		closed := newRequest("closed", "opco-2i", "M1805", "E")     // withdrawn long ago
		for _, r := range []request.Request{triaged, chatty, reviewed, back, closed} {
			if err := s.Create(t.Context(), r, nil); err != nil {
				t.Fatal(err)
			}
		}
		at(t, s, triaged, 1, request.StatusAwaitingTriage, t0.Add(1*h))
		at(t, s, chatty, 1, request.StatusAwaitingTriage, t0.Add(1*h))
		at(t, s, chatty, 2, request.StatusAwaitingTriage, t0.Add(3*h)) // a message: the wait goes on
		at(t, s, chatty, 3, request.StatusAwaitingTriage, t0.Add(4*h))
		at(t, s, reviewed, 1, request.StatusAwaitingTriage, t0.Add(1*h))
		at(t, s, reviewed, 2, request.StatusInReview, t0.Add(5*h))
		at(t, s, back, 1, request.StatusInReview, t0.Add(1*h))
		at(t, s, back, 2, request.StatusAwaitingPartner, t0.Add(2*h))
		at(t, s, back, 3, request.StatusInReview, t0.Add(6*h))
		at(t, s, back, 2, request.StatusAwaitingPartner, t0.Add(2*h)) // a retried activity changes nothing
		at(t, s, closed, 1, request.StatusWithdrawn, t0.Add(1*h))

		triage := func(since time.Time) store.Wait {
			return store.Wait{Status: request.StatusAwaitingTriage, Since: since}
		}
		review := func(since time.Time) store.Wait { return store.Wait{Status: request.StatusInReview, Since: since} }
		for _, tc := range []struct {
			name  string
			f     store.Filter
			waits []store.Wait
			want  []string
		}{
			{"the first status change starts the wait", store.Filter{}, []store.Wait{triage(t0.Add(1*h + time.Second))}, []string{"chatty", "triaged"}},
			{"waiting since exactly then is not before", store.Filter{}, []store.Wait{triage(t0.Add(1 * h))}, nil},
			{"a new status starts a new wait", store.Filter{}, []store.Wait{review(t0.Add(5*h + time.Second))}, []string{"reviewed"}},
			{"coming back to a status starts it again", store.Filter{}, []store.Wait{review(t0.Add(6*h + time.Second))}, []string{"back", "reviewed"}},
			{"waits combine (OR)", store.Filter{}, []store.Wait{triage(t0.Add(2 * h)), review(t0.Add(5*h + time.Minute))}, []string{"reviewed", "chatty", "triaged"}},
			{"with the other filters (AND)", store.Filter{VisibleTo: "opco-2i"}, []store.Wait{triage(t0.Add(2 * h)), review(t0.Add(7 * h))}, []string{"chatty", "triaged"}},
			{"a closed request waits for nothing", store.Filter{}, []store.Wait{triage(t0.Add(9 * h)), review(t0.Add(9 * h))}, []string{"back", "reviewed", "chatty", "triaged"}},
		} {
			if got, total := waitingSince(t, s, tc.f, tc.waits...); !slices.Equal(got, tc.want) || total != int64(len(tc.want)) {
				t.Errorf("%s: %v (total %d), want %v", tc.name, got, total, tc.want)
			}
		}

		// A submission waits from its submission; its first event in another status restarts it.
		fresh := newRequest("fresh", "opco-2i", "M1805", "F")
		fresh.CreatedAt, fresh.UpdatedAt = t0.Add(8*h), t0.Add(8*h)
		if err := s.Create(t.Context(), fresh, nil); err != nil {
			t.Fatal(err)
		}
		submitted := store.Wait{Status: request.StatusSubmitted, Since: t0.Add(8*h + time.Second)}
		if got, _ := waitingSince(t, s, store.Filter{}, submitted); !slices.Equal(got, []string{"fresh"}) {
			t.Fatalf("submitted at t0+8h: %v", got)
		}
		at(t, s, fresh, 1, request.StatusAwaitingTriage, t0.Add(9*h))
		if got, _ := waitingSince(t, s, store.Filter{}, triage(t0.Add(9*h))); slices.Contains(got, "fresh") {
			t.Fatalf("awaiting triage since t0+9h, found before: %v", got)
		}
		if got, _ := waitingSince(t, s, store.Filter{}, triage(t0.Add(9*h+time.Second))); !slices.Contains(got, "fresh") {
			t.Fatalf("awaiting triage since t0+9h, not found after: %v", got)
		}
	})
}

// Migration v3 on v2 data: the requests already there wait since their last change.
func TestMigrationV3BackfillsStatusSince(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		ctx := t.Context()
		if err := database.Migrate(ctx, db, store.Component, store.Migrations[:2]); err != nil {
			t.Fatal(err)
		}
		old := newRequest("old", "opco-2i", "M1805", "Déjà là")
		old.Status = request.StatusInReview
		doc, err := store.Document(old)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Exec(`INSERT INTO requests (id, kind, code_rome, title, status, org, submitted_by, assignee, search_text,
			created_at, updated_at, last_seq, state) VALUES ('old', 'modify_fiche', 'M1805', 'Déjà là', 'IN_REVIEW', 'opco-2i',
			'alice-opco-2i', 'bob', 'deja la', ?, ?, 3, ?)`, t0, t0.Add(2*time.Hour), string(doc)).Error
		if err != nil {
			t.Fatal(err)
		}
		s := store.New(db)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("v3 on v2 data: %v", err)
		}
		var since time.Time
		if err := db.Raw(`SELECT status_since FROM requests WHERE id = 'old'`).Scan(&since).Error; err != nil || !since.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("status_since %v (%v), want updated_at %v", since, err, t0.Add(2*time.Hour))
		}
		review := func(since time.Time) store.Wait { return store.Wait{Status: request.StatusInReview, Since: since} }
		if got, _ := waitingSince(t, s, store.Filter{}, review(t0.Add(2*time.Hour+time.Second))); !slices.Equal(got, []string{"old"}) {
			t.Fatalf("migrated request: %v", got)
		}
		if got, _ := waitingSince(t, s, store.Filter{}, review(t0.Add(2*time.Hour))); len(got) != 0 {
			t.Fatalf("migrated request waits since before its last change: %v", got)
		}
		// The migrated row follows its workflow as before: the same status keeps its time.
		at(t, s, old, 4, request.StatusInReview, t0.Add(5*time.Hour))
		if got, _ := waitingSince(t, s, store.Filter{}, review(t0.Add(2*time.Hour+time.Second))); !slices.Equal(got, []string{"old"}) {
			t.Fatalf("after an event in the same status: %v", got)
		}
		if err := s.Create(ctx, newRequest("new", "opco-2i", "M1805", "Nouveau"), nil); err != nil {
			t.Fatalf("create after v3: %v", err)
		}
	})
}

// Replicas assigning requests in turn at the same moment give each to a different
// moderator, as one replica would.
func TestAssignInTurnAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := dbtest.URL(t, d)
			replicas := []*store.Store{open(t, dbtest.Connect(t, url)), store.New(dbtest.Connect(t, url))}
			const n = 6
			for i := range n {
				p := store.Person{Sub: fmt.Sprintf("m-%d", i), Name: "Modérateur", Role: "moderator", Active: true, Domains: []string{"M"},
					Source: "admin", CreatedAt: t0, UpdatedAt: t0}
				if err := replicas[0].InsertPerson(t.Context(), p); err != nil {
					t.Fatal(err)
				}
			}
			var (
				wg     sync.WaitGroup
				chosen = make([]string, n)
			)
			for i := range n {
				wg.Go(func() {
					m, err := replicas[i%2].AssignInTurn(t.Context(), fmt.Sprintf("req-%d", i), "M1805", t0)
					if err != nil {
						t.Error(err)
					}
					chosen[i] = m
				})
			}
			wg.Wait()
			slices.Sort(chosen)
			if len(slices.Compact(slices.Clone(chosen))) != n || chosen[0] == "" {
				t.Fatalf("%d requests assigned to %q: not one each", n, chosen)
			}
		})
	}
}
