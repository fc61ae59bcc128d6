package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// StatsQuery selects contribution statistics: the requests submitted from From to To
// (dates, To included; by default the last twelve months), by Period (month, quarter or
// year; month by default).
type StatsQuery struct {
	From, To, Period string
}

// PeriodStats are the figures of the requests submitted in one period.
type PeriodStats struct {
	Start              string `json:"start"` // the period's first day
	RequestsFiled      int    `json:"requestsFiled"`
	RequestsDecided    int    `json:"requestsDecided"`
	OperationsAccepted int    `json:"operationsAccepted"` // accepted as filed or amended
	OperationsRejected int    `json:"operationsRejected"`
	// The medians, in hours, from the submission to the ROME team's first action on the
	// request (taken, asked, written to, decided) and to its decision; absent when none.
	MedianHoursToFirstAnswer *float64 `json:"medianHoursToFirstAnswer,omitempty"`
	MedianHoursToDecision    *float64 `json:"medianHoursToDecision,omitempty"`
}

// OrgStats are an organisation's figures, period by period, and its requests waiting
// longer than the reminders allow now.
type OrgStats struct {
	Org        string        `json:"org"`
	Periods    []PeriodStats `json:"periods"`
	OverdueNow int           `json:"overdueNow"`
}

// Contributions answers GET /v1/stats/contributions: per organisation, and for the ROME
// team's service levels every organisation together.
type Contributions struct {
	From          string     `json:"from"`
	To            string     `json:"to"`
	Period        string     `json:"period"`
	Organisations []OrgStats `json:"organisations"`
	RomeTeam      OrgStats   `json:"romeTeam"`
}

// teamReactions are the events in which the ROME team answers a request.
var teamReactions = []string{request.EventAssigned, request.EventQuestionAsked, request.EventMessagePosted, request.EventDecided}

// Contributions computes the statistics from the requests' projection and history (not
// from Temporal's visibility store). A partner sees their organisation's only.
func (s *Service) Contributions(ctx context.Context, p auth.Principal, q StatsQuery) (Contributions, error) {
	from, to, period, err := s.statsRange(q)
	if err != nil {
		return Contributions{}, err
	}
	org := ""
	if p.Role == auth.RolePartner {
		org = p.Org
	}
	end := to.AddDate(0, 0, 1)
	filed, err := s.requests.Filed(ctx, from, end, org)
	if err != nil {
		return Contributions{}, err
	}
	reactions, err := s.requests.Reactions(ctx, from, end, org, teamReactions)
	if err != nil {
		return Contributions{}, err
	}
	overdue, err := s.requests.OverdueByOrg(ctx, s.overdue(), org)
	if err != nil {
		return Contributions{}, err
	}
	byRequest := map[string][]store.Reaction{}
	for _, r := range reactions {
		byRequest[r.RequestID] = append(byRequest[r.RequestID], r)
	}
	perOrg := map[string]*tally{}
	team := newTally()
	for _, f := range filed {
		t := perOrg[f.Org]
		if t == nil {
			t = newTally()
			perOrg[f.Org] = t
		}
		start := periodStart(f.SubmittedAt, period)
		outcome := outcomeOf(f, byRequest[f.ID])
		t.add(start, outcome)
		team.add(start, outcome)
	}
	out := Contributions{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Period: period, Organisations: []OrgStats{},
		RomeTeam: OrgStats{Periods: team.periods()}}
	for name, n := range overdue {
		if perOrg[name] == nil {
			perOrg[name] = newTally()
		}
		out.RomeTeam.OverdueNow += n
	}
	for name, t := range perOrg {
		out.Organisations = append(out.Organisations, OrgStats{Org: name, Periods: t.periods(), OverdueNow: overdue[name]})
	}
	slices.SortFunc(out.Organisations, func(a, b OrgStats) int { return strings.Compare(a.Org, b.Org) })
	return out, nil
}

// statsRange reads q: the first and last days, and the period.
func (s *Service) statsRange(q StatsQuery) (from, to time.Time, period string, err error) {
	var errs fieldErrors
	today := s.cfg.Now().UTC().Truncate(24 * time.Hour)
	to, from, period = today, today.AddDate(-1, 0, 1), q.Period
	if period == "" {
		period = "month"
	}
	if !slices.Contains([]string{"month", "quarter", "year"}, period) {
		errs.add("period", "must be month, quarter or year")
	}
	for _, d := range []struct {
		name, value string
		dst         *time.Time
	}{{"from", q.From, &from}, {"to", q.To, &to}} {
		if d.value == "" {
			continue
		}
		t, perr := time.Parse(time.DateOnly, d.value)
		if perr != nil {
			errs.add(d.name, "must be a date such as 2026-01-31")
			continue
		}
		*d.dst = t
	}
	switch {
	case len(errs) > 0:
	case to.Before(from):
		errs.add("to", "must not be before from")
	case to.Sub(from) > 10*366*24*time.Hour:
		errs.add("from", "must be at most ten years before to")
	}
	if len(errs) > 0 {
		return from, to, period, httpx.Unprocessable("invalid_query", "The query parameters are invalid.", errs...)
	}
	return from, to, period, nil
}

// periodStart is the first day of the period holding t.
func periodStart(t time.Time, period string) string {
	t = t.UTC()
	switch period {
	case "year":
		return fmt.Sprintf("%04d-01-01", t.Year())
	case "quarter":
		return fmt.Sprintf("%04d-%02d-01", t.Year(), (int(t.Month())-1)/3*3+1)
	}
	return fmt.Sprintf("%04d-%02d-01", t.Year(), int(t.Month()))
}

// outcome is what statistics retain of one request.
type outcome struct {
	toFirstAnswer, toDecision *time.Duration
	accepted, rejected        int
}

// outcomeOf reads a request's ROME team reactions: the first one by a person of the team,
// and the last decision (a request sent back after a publication conflict is decided again).
func outcomeOf(f store.Filed, reactions []store.Reaction) outcome {
	var o outcome
	for _, r := range reactions {
		var actor request.Actor
		if json.Unmarshal([]byte(r.Actor), &actor) != nil || (actor.Role != string(auth.RoleModerator) && actor.Role != string(auth.RoleAdmin)) {
			continue
		}
		wait := r.At.Sub(f.SubmittedAt)
		if o.toFirstAnswer == nil {
			o.toFirstAnswer = &wait
		}
		if r.Type != request.EventDecided {
			continue
		}
		var data request.EventData
		if json.Unmarshal([]byte(r.Data), &data) != nil {
			continue
		}
		o.toDecision, o.accepted, o.rejected = &wait, 0, 0
		for _, d := range data.Decisions {
			if d.Decision == request.DecisionRejected {
				o.rejected++
			} else {
				o.accepted++
			}
		}
	}
	return o
}

// tally gathers outcomes per period.
type tally struct{ byPeriod map[string]*periodTally }

type periodTally struct {
	stats                     PeriodStats
	toFirstAnswer, toDecision []time.Duration
}

func newTally() *tally { return &tally{byPeriod: map[string]*periodTally{}} }

func (t *tally) add(start string, o outcome) {
	p := t.byPeriod[start]
	if p == nil {
		p = &periodTally{stats: PeriodStats{Start: start}}
		t.byPeriod[start] = p
	}
	p.stats.RequestsFiled++
	p.stats.OperationsAccepted += o.accepted
	p.stats.OperationsRejected += o.rejected
	if o.toFirstAnswer != nil {
		p.toFirstAnswer = append(p.toFirstAnswer, *o.toFirstAnswer)
	}
	if o.toDecision != nil {
		p.stats.RequestsDecided++
		p.toDecision = append(p.toDecision, *o.toDecision)
	}
}

// periods are the tally's periods, in order, with their medians.
func (t *tally) periods() []PeriodStats {
	out := make([]PeriodStats, 0, len(t.byPeriod))
	for _, p := range t.byPeriod {
		p.stats.MedianHoursToFirstAnswer = medianHours(p.toFirstAnswer)
		p.stats.MedianHoursToDecision = medianHours(p.toDecision)
		out = append(out, p.stats)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// medianHours is the median of waits in hours, to the tenth; nil without any.
func medianHours(waits []time.Duration) *float64 {
	if len(waits) == 0 {
		return nil
	}
	slices.Sort(waits)
	m := waits[len(waits)/2]
	if len(waits)%2 == 0 {
		m = (waits[len(waits)/2-1] + m) / 2
	}
	h := float64(m.Round(6*time.Minute)) / float64(time.Hour)
	return &h
}

// workStatuses are the statuses in which a request waits on the ROME team: to be taken
// (unassigned), or on its moderator.
var workStatuses = []request.Status{request.StatusAwaitingTriage, request.StatusInReview, request.StatusAwaitingPartner}

// Loads are the requests waiting on each moderator ("" for those waiting to be taken), and
// the overdue ones among them.
func (s *Service) Loads(ctx context.Context) ([]store.Load, error) {
	return s.requests.Loads(ctx, workStatuses, s.overdue())
}
