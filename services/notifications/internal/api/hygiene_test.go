package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// Text hygiene at the notifications service: a title or text breaking the platform's
// text rule is refused with 422 naming the field (a NUL used to make PostgreSQL answer
// 500), nothing is stored; acceptable ones are stored trimmed and NFC.
func TestCreateRefusesHostileText(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			// Not checked against the OpenAPI document: its maxLength counts a
			// title's characters as sent, the service as stored (trimmed, NFC).
			e := newEnvOn(t, d, func(h http.Handler) http.Handler { return h })
			svc := e.token("worker", auth.RoleService, "")
			mod := e.token("mod", auth.RoleModerator, "")
			e.do("GET", "/v1/notifications", mod, nil) // the moderator becomes known

			for name, n := range map[string]func(n *notificationPatch){
				"BEL in the title":   func(n *notificationPatch) { n.title = "Nouvelle demande\a" },
				"NUL in the text":    func(n *notificationPatch) { n.text = "Bonjour\x00" },
				"RLO in the title":   func(n *notificationPatch) { n.title = "Demande \u202Efdp.exe" },
				"line in the title":  func(n *notificationPatch) { n.title = "Demande\nurgente" },
				"invalid UTF-8 text": func(n *notificationPatch) { n.text = "Caf\xe9" },
				"long title":         func(n *notificationPatch) { n.title = strings.Repeat("é", 301) },
				"long text":          func(n *notificationPatch) { n.text = strings.Repeat("x", 10_001) },
			} {
				t.Run(name, func(t *testing.T) {
					p := notificationPatch{title: "Nouvelle demande", text: ""}
					n(&p)
					field := "title"
					if p.text != "" {
						field = "text"
					}
					body := sample("hostile-" + name)
					body.Title, body.Text = p.title, p.text
					e.do("POST", "/v1/notifications", svc, body).problem(t, 422, "invalid_notification", field)
				})
			}
			inbox := e.do("GET", "/v1/notifications", mod, nil)
			if items, _ := inbox.body["items"].([]any); inbox.status != 200 || len(items) != 0 {
				t.Fatalf("hostile notifications were stored: %d %v", inbox.status, inbox.body)
			}

			// 300 characters of title are fine (its limit is in characters, not bytes),
			// and what is stored is trimmed, CR+LF folded and NFC.
			ok := sample("clean")
			ok.Title, ok.Text = " "+strings.Repeat("é", 299)+"e\u0301 ", "Ligne 1\r\nLigne 2 "
			if created := e.do("POST", "/v1/notifications", svc, ok); created.status != 201 {
				t.Fatalf("create: %d %v", created.status, created.body)
			}
			inbox = e.do("GET", "/v1/notifications", mod, nil)
			items, _ := inbox.body["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("inbox: %v", inbox.body)
			}
			if got := items[0].(map[string]any); got["title"] != strings.Repeat("é", 300) || got["text"] != "Ligne 1\nLigne 2" {
				t.Fatalf("stored %q %q", got["title"], got["text"])
			}
		})
	}
}

type notificationPatch struct{ title, text string }
