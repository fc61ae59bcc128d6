package ui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// withReleases is a referential under release trains: release 3 open with a change set
// staged, release 2 published as version 61 with its notes.
func withReleases() *fakeReferential {
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	version := 61
	return &fakeReferential{releases: []backend.Release{
		{Number: 3, Status: refclient.ReleaseOpen, OpenedAt: at, ChangeSets: []backend.StagedChangeSet{
			{ID: "r-1-decision-1", RequestID: "r-1", RequestTitle: "Développeur low-code", CodeRome: "M1805", StagedAt: at, Status: refclient.StagedWaiting},
		}},
		{Number: 2, Status: refclient.ReleasePublished, OpenedAt: at.AddDate(0, -4, 0), PublishedAt: &at, FrozenAt: &at, Version: &version,
			ChangeSets: []backend.StagedChangeSet{
				{ID: "r-0-decision-1", RequestID: "r-0", RequestTitle: "Développeur no-code", CodeRome: "M1805", StagedAt: at, Status: refclient.StagedIncluded},
				{ID: "r-9-decision-1", RequestID: "r-9", RequestTitle: "Doublon", CodeRome: "M1805", StagedAt: at, Status: refclient.StagedReturned,
					Results: []refclient.Result{{OperationID: "op-1", Applies: false, Code: "appellation_exists", Reason: "already added by r-0"}}},
			},
			Notes: "# Version 61 — release 2 du ROME\nUne demande publiée, une fiche modifiée.\n## M1805 — Développeur / Développeuse web\n- Appellation ajoutée : « Développeur / Développeuse no-code » (demande r-0)\n- <script>alert(1)</script>\n"},
	}}
}

func TestFicheNextRelease(t *testing.T) {
	t.Parallel()
	// Without release trains there is no next release to read.
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	partner := ui.as(auth.RolePartner, "alice", "opco-2i")
	mustNotContain(t, checkPage(t, partner.get("/referentiel/fiches/M1805"), 200, "Fiche M1805 – Développeur / Développeuse web"), `value="next"`)
	mustContain(t, checkPage(t, partner.get("/referentiel/fiches/M1805?version=next"), 404, "Page introuvable"), "publie chaque demande acceptée aussitôt")

	ui = newPagesUI(t, withReleases(), emptyNotifications())
	partner = ui.as(auth.RolePartner, "alice", "opco-2i")
	body := checkPage(t, partner.get("/referentiel/fiches/M1805"), 200, "Fiche M1805 – Développeur / Développeuse web")
	mustContain(t, body, `<option value="next">Prochaine release (release 3, non publiée)</option>`, `<option value="61" selected>`)
	mustNotContain(t, body, "low-code")

	body = checkPage(t, partner.get("/referentiel/fiches/M1805?version=next"), 200, "Fiche M1805 – Développeur / Développeuse web (prochaine release)")
	mustContain(t, body, `<option value="next" selected>`, "Prochaine release (release 3, non publiée)",
		`telle que la <a href="/referentiel/releases/3">release 3</a> la publiera`, "les utilisateurs du ROME voient encore la version 61",
		"Développeur / Développeuse low-code")
	mustNotContain(t, body, `<option value="61" selected>`, "Comparer avec la version précédente")
}

func TestReleasesPages(t *testing.T) {
	t.Parallel()
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	mustContain(t, checkPage(t, ui.as(auth.RoleAdmin, "ada", "").get("/referentiel/releases"), 200, "Releases du référentiel"),
		"publie chaque demande acceptée aussitôt", "Aucune release n'a encore été publiée.")

	ui = newPagesUI(t, withReleases(), emptyNotifications())
	partner := ui.as(auth.RolePartner, "alice", "opco-2i")
	body := checkPage(t, partner.get("/referentiel/releases"), 200, "Releases du référentiel")
	mustContain(t, body, "Prochaine release : release 3", "Ouverte : elle reçoit les demandes acceptées",
		`<a href="/demandes/r-1">Développeur low-code</a>`, `<a href="/referentiel/fiches/M1805?version=next">M1805</a>`, "En attente de la release",
		`<a href="/referentiel/releases/2">Release 2</a>`, "Version 61")
	mustNotContain(t, body, "Publier la release") // partners do not cut releases
	mustContain(t, checkPage(t, ui.as(auth.RoleAdmin, "ada", "").get("/referentiel/releases"), 200, "Releases du référentiel"),
		`<form method="post" action="/referentiel/releases">`, "Publier la release")

	body = checkPage(t, partner.get("/referentiel/releases/2"), 200, "Release 2 du référentiel")
	mustContain(t, body, "<strong>Publiée</strong>", "version 61", "Incluse", "Renvoyée à l&#39;équipe ROME", "already added by r-0",
		`<h2>Version 61 — release 2 du ROME</h2>`, `<h3>M1805 — Développeur / Développeuse web</h3>`,
		"<li>Appellation ajoutée : « Développeur / Développeuse no-code » (demande r-0)</li>", "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>",
		`<a href="/referentiel/fiches/M1805">M1805</a>`)
	checkPage(t, partner.get("/referentiel/releases/9"), 404, "Page introuvable")
	checkPage(t, partner.get("/referentiel/releases/x"), 404, "Page introuvable")
}

// releaseIntake answers POST /v1/releases as the intake does, refusing with problem when set.
type releaseIntake struct {
	mu      sync.Mutex
	keys    []string
	problem string
}

func (f *releaseIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/releases" {
		http.NotFound(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
	if f.problem != "" {
		problem(w, 409, f.problem, "cannot cut the release")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"release": 3, "workflowId": "release-3"})
}

func TestReleaseStart(t *testing.T) {
	t.Parallel()
	intake := &releaseIntake{}
	u := newTestUI(t, intake, withReleases(), emptyNotifications())
	admin := u.signIn(auth.Principal{Subject: "ada", Name: "Ada", Role: auth.RoleAdmin})
	key := newFormKey()
	location(t, admin.post("/referentiel/releases", url.Values{"cle": {key}}), "/referentiel/releases/3?message=release-lancee")
	if len(intake.keys) != 1 || intake.keys[0] != key {
		t.Fatalf("intake calls: %v", intake.keys)
	}
	mustContain(t, checkPage(t, admin.get("/referentiel/releases/3?message=release-lancee"), 200, "Release 3 du référentiel"),
		"La publication de la release a commencé", "La release n'est pas encore publiée")

	intake.problem = refclient.CodeReleaseEmpty
	mustContain(t, checkPage(t, admin.post("/referentiel/releases", url.Values{"cle": {newFormKey()}}), 409, "La situation a changé"),
		"Aucune demande acceptée n&#39;attend dans la prochaine release")

	partner := u.signIn(auth.Principal{Subject: "alice", Name: "Alice", Role: auth.RolePartner, Org: "opco-2i"})
	if w := partner.post("/referentiel/releases", url.Values{"cle": {newFormKey()}}); w.Code != http.StatusForbidden {
		t.Fatalf("a partner cut a release: %d", w.Code)
	}
	if len(intake.keys) != 2 {
		t.Fatalf("intake calls: %v", intake.keys)
	}
}

func TestRequestAcceptedInARelease(t *testing.T) {
	t.Parallel()
	r := inReview()
	release := 3
	r.Status, r.Release, r.ChangeSetID = request.StatusAccepted, &release, "r-1-decision-1"
	intake := &fakeIntake{req: r, history: []map[string]any{
		{"seq": 5, "at": "2026-12-04T10:00:00Z", "type": request.EventStaged, "actor": map[string]any{"sub": "system", "role": "service"},
			"data": map[string]any{"changeSetId": "r-1-decision-1", "release": 3}},
	}}
	u := newTestUI(t, intake, withReleases(), emptyNotifications())
	body := checkPage(t, u.partner().get("/demandes/r-1"), 200, "Demande « Développeur Zig »")
	mustContain(t, body, `data-status="ACCEPTED">Acceptée, en attente de la release</strong>`,
		`publiés avec la <a href="/referentiel/releases/3">release 3</a> du référentiel`, `<a href="/referentiel/fiches/M1805?version=next">`,
		"Acceptée pour la prochaine release", `Ses changements seront publiés avec la <a href="/referentiel/releases/3">release 3</a>.`)
}
