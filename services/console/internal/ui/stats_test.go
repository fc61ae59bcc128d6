package ui

import (
	"net/http"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
)

// The statistics page shows the ROME team's service levels and each organisation's figures,
// periods and waits in French; a refused query shows next to its field; a partner's page
// speaks of their organisation only.
func TestStatsPage(t *testing.T) {
	var asked string
	intake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/organisations":
			writeJSON(w, 200, map[string]any{"items": []map[string]any{{"id": "opco-2i", "name": "OPCO 2i", "kind": "opco", "domains": []string{}, "active": true,
				"createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}}})
		case "/v1/stats/contributions":
			asked = r.URL.RawQuery
			if r.URL.Query().Get("from") == "hier" {
				problem(w, 422, "invalid_query", "The query parameters are invalid.", map[string]string{"field": "from", "message": "must be a date such as 2026-01-31"})
				return
			}
			period := map[string]any{"start": "2026-01-01", "requestsFiled": 4, "requestsDecided": 3, "operationsAccepted": 5, "operationsRejected": 2,
				"medianHoursToFirstAnswer": 5.5, "medianHoursToDecision": 74.4}
			writeJSON(w, 200, map[string]any{"from": "2026-01-01", "to": "2026-06-30", "period": "quarter",
				"organisations": []map[string]any{{"org": "opco-2i", "periods": []any{period}, "overdueNow": 1}},
				"romeTeam":      map[string]any{"org": "", "periods": []any{period}, "overdueNow": 2}})
		default:
			problem(w, 404, "not_found", "no")
		}
	})
	ui := &pagesUI{newTestUI(t, intake, nil, newFakeNotifications())}
	mod := ui.as(auth.RoleModerator, "mona", "")
	body := checkPage(t, mod.get("/statistiques?du=2026-01-01&au=2026-06-30&periode=quarter"), 200, "Statistiques des contributions")
	if asked != "from=2026-01-01&period=quarter&to=2026-06-30" {
		t.Errorf("asked the intake %q", asked)
	}
	mustContain(t, body, "Niveaux de service de l'équipe ROME", "<strong>2</strong> demandes", "<h3>OPCO 2i</h3>",
		`<th scope="row">T1 2026</th>`, "<td>5,5 h</td>", "<td>3,1 j</td>", `value="quarter" selected`)
	body = checkPage(t, mod.get("/statistiques?du=hier"), 422, "Statistiques des contributions")
	mustContain(t, body, `id="stats-du-error"`, "Saisissez une date, par exemple 2026-01-31.", `value="hier"`)
	partner := ui.as(auth.RolePartner, "alice", "opco-2i")
	body = checkPage(t, partner.get("/statistiques"), 200, "Statistiques des contributions")
	if strings.Contains(body, "Niveaux de service de l'équipe ROME") {
		t.Error("a partner's page shows the ROME team's service levels")
	}
}
