package ui

import (
	"net/http"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
)

// The queue page shows the team's workload; without it, the queue still shows.
func TestModerationWorkload(t *testing.T) {
	workloadUp := true
	intake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/requests":
			writeJSON(w, 200, map[string]any{"items": []any{}})
		case r.URL.Path == "/v1/moderators/workload" && workloadUp:
			writeJSON(w, 200, map[string]any{"unassigned": 3, "unassignedOverdue": 1, "moderators": []map[string]any{
				{"sub": "mona", "name": "Mona Lefèvre", "role": "moderator", "domains": []string{"M", "N4101"}, "open": 4, "overdue": 2,
					"absentUntil": "2099-12-25T00:00:00Z", "delegate": "leo"},
				{"sub": "leo", "name": "Léo Martin", "role": "moderator", "domains": []string{}, "open": 1, "overdue": 0},
			}})
		default:
			problem(w, 503, "unavailable", "down")
		}
	})
	ui := &pagesUI{newTestUI(t, intake, nil, newFakeNotifications())}
	mod := ui.as(auth.RoleModerator, "mona", "")
	body := checkPage(t, mod.get("/moderation"), 200, "Modération – À prendre en charge")
	mustContain(t, body, `<h2 id="charge-equipe">Charge de l'équipe</h2>`, "<strong>3 demandes</strong> attendent d'être prises en charge, dont 1 en retard.",
		`<caption id="tableau-charge">Demandes en cours par modérateur</caption>`, "<td>Mona Lefèvre</td>", "<td>M, N4101</td>", "<td><strong>2</strong></td>",
		"<td>24 déc. 2099 inclus</td>", "<td>Léo Martin</td>")
	workloadUp = false
	mustContain(t, checkPage(t, mod.get("/moderation"), 200, "Modération – À prendre en charge"), "La charge de l'équipe n'est pas disponible pour le moment.")
}

func TestAbsenceText(t *testing.T) {
	t.Parallel()
	now := mustTime("2026-12-05T10:00:00Z")
	for until, want := range map[string]string{
		"2026-12-25T00:00:00Z": "24 déc. 2026", // a date: the whole day
		"2026-12-24T18:00:00Z": "24 déc. 2026", // a time
		"2026-12-01T00:00:00Z": "",             // over
	} {
		u := mustTime(until)
		if got := absenceText(now, &u); got != want {
			t.Errorf("%s → %q, want %q", until, got, want)
		}
	}
	if got := absenceText(now, nil); got != "" {
		t.Errorf("no absence → %q", got)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
