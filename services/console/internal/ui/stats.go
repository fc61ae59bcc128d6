package ui

// The contribution statistics: per organisation and per period, what was filed and decided
// and how fast the ROME team answered; the ROME team's service levels over everyone.

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// statsPeriods are the periods the figures are grouped by.
var statsPeriods = []choice{{"month", "Mois"}, {"quarter", "Trimestre"}, {"year", "Année"}}

// statsFields name the form's fields for the intake's query parameters.
var statsFields = map[string]string{"from": "du", "to": "au", "period": "periode"}

type statsData struct {
	From, To, Period string // as typed
	Periods          []choice
	Errors           fieldErrors
	Stats            *backend.Contributions
	OrgNames         map[string]string
	// Team: the ROME team sees every organisation; a partner their own.
	Team bool
}

func (h *handlers) statsPage(c *gin.Context) {
	ctx := c.Request.Context()
	d := statsData{From: c.Query("du"), To: c.Query("au"), Period: cmp.Or(c.Query("periode"), "month"), Periods: statsPeriods,
		Errors: fieldErrors{}, Team: person(c).Role != auth.RolePartner}
	var (
		stats backend.Contributions
		orgs  []backend.Organisation
		p     fanout
	)
	p.do(func() (err error) {
		stats, err = h.Backend.Intake.Contributions(ctx, d.From, d.To, d.Period)
		return err
	})
	p.do(func() (err error) { orgs, err = h.Backend.Intake.Organisations(ctx); return err })
	err := p.wait()
	if e, bad := problemWithStatus(err, http.StatusUnprocessableEntity); bad {
		d.Errors = fromProblem(e, func(f string) string { return cmp.Or(statsFields[f], f) })
		h.render(c, http.StatusUnprocessableEntity, "stats", view{Title: "Statistiques des contributions", Section: "statistiques", Data: d})
		return
	}
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	d.Stats, d.OrgNames = &stats, orgNames(orgs)
	d.From, d.To, d.Period = stats.From, stats.To, stats.Period
	h.render(c, http.StatusOK, "stats", view{Title: "Statistiques des contributions", Section: "statistiques", Data: d})
}

// periodLabel names the period starting on start (2026-03-01): « mars 2026 », « T1 2026 »
// or « 2026 ».
func periodLabel(start, period string) string {
	t, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return start
	}
	switch period {
	case "year":
		return strconv.Itoa(t.Year())
	case "quarter":
		return fmt.Sprintf("T%d %d", (int(t.Month())-1)/3+1, t.Year())
	}
	return frenchMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// waitLabel says a median wait in hours, or in days beyond two: « 5,5 h », « 3,2 j »; « — »
// when there is none.
func waitLabel(hours *float64) string {
	switch {
	case hours == nil:
		return "—"
	case *hours < 48:
		return strings.Replace(strconv.FormatFloat(*hours, 'f', 1, 64), ".", ",", 1) + " h"
	}
	return strings.Replace(strconv.FormatFloat(*hours/24, 'f', 1, 64), ".", ",", 1) + " j"
}
