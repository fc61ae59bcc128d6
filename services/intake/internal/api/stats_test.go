package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/workflows/request"
)

// TestContributionStatistics: the figures per organisation and per period come from the
// requests' history: requests filed and decided, operations accepted and rejected, the
// median time to the ROME team's first answer and to the decision, the requests overdue
// now; the ROME team's are every organisation's together; a partner sees their own.
func TestContributionStatistics(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			c := e.cast(t)
			moderator := request.Actor{Sub: "bob", Role: string(auth.RoleModerator)}
			react := func(id string, seq int, typ string, status request.Status, at time.Time, data string) {
				t.Helper()
				r := e.requestDoc(t, id)
				r.Status, r.UpdatedAt = status, at
				if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: id, Seq: seq, Type: typ, At: at, Actor: moderator,
					Data: json.RawMessage(data), Request: r}); err != nil {
					t.Fatal(err)
				}
			}
			march10 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
			e.clock.set(march10)
			a := e.submit(t, c.partner)
			react(a, 1, request.EventAssigned, request.StatusInReview, march10.Add(2*time.Hour), `{"moderator":"bob"}`)
			react(a, 2, request.EventDecided, request.StatusPublishing, march10.Add(26*time.Hour),
				`{"decisions":[{"operationId":"op-1","decision":"accepted","rationale":"ok"},{"operationId":"mine","decision":"rejected","rationale":"non"},
				{"operationId":"op-3","decision":"amended","rationale":"mieux"}]}`)
			e.clock.set(march10.AddDate(0, 0, 10))
			b := e.submit(t, c.partner)
			e.record(t, b, 1, request.EventChecked, request.StatusAwaitingTriage)
			april2 := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
			e.clock.set(april2)
			other := e.submit(t, c.outsider)
			react(other, 1, request.EventDecided, request.StatusRejected, april2.Add(10*time.Hour), `{"decisions":[{"operationId":"op-1","decision":"rejected","rationale":"non"}]}`)
			e.clock.set(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))

			var got struct {
				From, To, Period string
				Organisations    []struct {
					Org        string
					Periods    []map[string]any
					OverdueNow int
				}
				RomeTeam struct {
					Periods    []map[string]any
					OverdueNow int
				}
			}
			res := call(t, e.h, "GET", "/v1/stats/contributions?from=2026-03-01&to=2026-04-30", "", c.moderator)
			if err := json.Unmarshal([]byte(res.raw), &got); err != nil || res.status != 200 || len(got.Organisations) != 2 {
				t.Fatalf("statistics: %d %s", res.status, res.raw)
			}
			mine, theirs := got.Organisations[0], got.Organisations[1]
			march := mine.Periods[0]
			if mine.Org != "opco-2i" || march["start"] != "2026-03-01" || march["requestsFiled"] != 2.0 || march["requestsDecided"] != 1.0 ||
				march["operationsAccepted"] != 2.0 || march["operationsRejected"] != 1.0 || march["medianHoursToFirstAnswer"] != 2.0 ||
				march["medianHoursToDecision"] != 26.0 || mine.OverdueNow != 1 {
				t.Fatalf("opco-2i: %+v", mine)
			}
			if theirs.Org != "opco-ep" || theirs.Periods[0]["start"] != "2026-04-01" || theirs.Periods[0]["medianHoursToFirstAnswer"] != 10.0 {
				t.Fatalf("opco-ep: %+v", theirs)
			}
			if len(got.RomeTeam.Periods) != 2 || got.RomeTeam.Periods[0]["requestsFiled"] != 2.0 || got.RomeTeam.Periods[1]["operationsRejected"] != 1.0 ||
				got.RomeTeam.OverdueNow != 1 {
				t.Fatalf("the ROME team: %+v", got.RomeTeam)
			}

			res = call(t, e.h, "GET", "/v1/stats/contributions?from=2026-01-01&to=2026-12-31&period=quarter", "", c.partner)
			if err := json.Unmarshal([]byte(res.raw), &got); err != nil || len(got.Organisations) != 1 || got.Organisations[0].Org != "opco-2i" ||
				len(got.RomeTeam.Periods) != 1 || got.RomeTeam.Periods[0]["start"] != "2026-01-01" || got.RomeTeam.Periods[0]["requestsFiled"] != 2.0 {
				t.Fatalf("a partner's statistics by quarter: %s", res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/stats/contributions?from=2026-13-01&period=week", "", c.moderator), 422, "invalid_query", "from", "period")
			wantProblem(t, call(t, e.h, "GET", "/v1/stats/contributions?from=2026-05-01&to=2026-04-01", "", c.moderator), 422, "invalid_query", "to")
		})
	}
}
