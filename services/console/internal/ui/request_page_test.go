package ui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// fakeIntake answers a request's reads like the intake, and records the changes it is sent;
// refuse, when set, answers them instead.
type fakeIntake struct {
	mu      sync.Mutex
	req     request.Request
	calls   []intakeCall
	refuse  func(path string) (int, string)
	history []map[string]any
	preview *refclient.Validation // the dry run the preview answers, when not the default one
}

type intakeCall struct {
	Method, Path, Key string
	Body              map[string]any
}

func (f *fakeIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	base := "/v1/requests/" + f.req.ID
	write := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == base:
		write(http.StatusOK, f.req)
	case r.Method == http.MethodGet && r.URL.Path == base+"/history":
		write(http.StatusOK, map[string]any{"items": f.history})
	case r.Method == http.MethodGet && r.URL.Path == base+"/preview" && f.preview != nil:
		write(http.StatusOK, f.preview)
	case r.Method == http.MethodGet && r.URL.Path == base+"/preview":
		write(http.StatusOK, refclient.Validation{Applies: true, Results: []refclient.Result{{OperationID: "op-1", Applies: true}, {OperationID: "op-2", Applies: false, Code: "unknown_fiche", Reason: "fiche M1801 does not exist"}},
			Diff: []refclient.Change{{OperationID: "op-1", Action: "added", Entity: "appellation", Libelle: "Développeur / Développeuse Zig"}}})
	case strings.HasPrefix(r.URL.Path, base) && r.Method != http.MethodGet:
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		f.calls = append(f.calls, intakeCall{r.Method, strings.TrimPrefix(r.URL.Path, base), r.Header.Get("Idempotency-Key"), body})
		if f.refuse != nil {
			if status, problem := f.refuse(r.URL.Path); status != 0 {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, problem)
				return
			}
		}
		write(http.StatusOK, f.req)
	default:
		write(http.StatusNotFound, map[string]any{"status": 404, "code": "request_not_found", "detail": "no such request"})
	}
}

func inReview() request.Request {
	rank := 1
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return request.Request{
		ID: "r-1", Kind: request.KindModifyFiche, CodeRome: "M1805", Title: "Développeur Zig", Justification: "Offres 2026.",
		Status: request.StatusInReview, Org: "opco-2i", SubmittedBy: request.Actor{Sub: "alice", Name: "Alice Martin", Role: "partner", Org: "opco-2i"},
		Assignee: "bob",
		Operations: []request.RequestOperation{
			{Operation: refclient.Operation{ID: "op-1", Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Zig"}},
			{Operation: refclient.Operation{ID: "op-2", Op: refclient.OpAddMobilite, ToCodeRome: "M1801", Rank: &rank}},
		},
		Findings:  []request.Finding{{Code: "overlapping_request", Severity: "warning", OperationID: "op-2", Message: "Une autre demande touche cette mobilité."}},
		Questions: []request.Question{},
		CreatedAt: now, UpdatedAt: now,
	}
}

func TestAllowedActions(t *testing.T) {
	t.Parallel()
	alice := auth.Principal{Subject: "alice", Role: auth.RolePartner, Org: "opco-2i"}
	other := auth.Principal{Subject: "olivier", Role: auth.RolePartner, Org: "autre"}
	bob := auth.Principal{Subject: "bob", Role: auth.RoleModerator}
	carol := auth.Principal{Subject: "carol", Role: auth.RoleModerator}
	r := inReview()
	for _, tc := range []struct {
		name   string
		p      auth.Principal
		status request.Status
		want   allowed
	}{
		{"the partner, in review", alice, request.StatusInReview, allowed{Amend: true, Withdraw: true, Message: true}},
		{"the partner, asked", alice, request.StatusAwaitingPartner, allowed{Answer: true, Amend: true, Withdraw: true, Message: true}},
		{"the partner, published", alice, request.StatusPublished, allowed{}},
		{"another organisation", other, request.StatusAwaitingPartner, allowed{}},
		{"the assignee", bob, request.StatusInReview, allowed{Reassign: true, Ask: true, Decide: true, Message: true}},
		{"another moderator takes it over", carol, request.StatusInReview, allowed{Assign: true, Reassign: true, Ask: true, Decide: true, Message: true}},
		{"to triage", carol, request.StatusAwaitingTriage, allowed{Assign: true, Reassign: true, Message: true}},
		{"being checked", carol, request.StatusChecking, allowed{Message: true}},
	} {
		r.Status = tc.status
		if got := allowedActions(tc.p, r); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// Nobody decides on a request they submitted (a moderator may have filed it).
	r.Status, r.SubmittedBy.Sub = request.StatusInReview, "bob"
	if allowedActions(bob, r).Decide {
		t.Error("the submitter may decide")
	}
}

func TestRequestPageShowsEachFindingAndResultNextToItsOperation(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{req: inReview(), history: []map[string]any{
		{"seq": 1, "at": "2026-12-04T10:00:00Z", "actor": map[string]any{"sub": "alice", "name": "Alice Martin", "role": "partner"}, "type": "submitted", "data": map[string]any{}},
		{"seq": 2, "at": "2026-12-04T10:05:00Z", "actor": map[string]any{"sub": "bob", "name": "Bruno", "role": "moderator"}, "type": "message_posted", "data": map[string]any{"text": "Bonjour Alice"}},
	}}
	u := newTestUI(t, intake, nil, nil)
	w := u.signIn(auth.Principal{Subject: "bob", Name: "Bruno", Role: auth.RoleModerator}).get("/demandes/r-1")
	if w.Code != http.StatusOK {
		t.Fatalf("GET: %d %s", w.Code, w.Body)
	}
	page := w.Body.String()
	op2 := page[strings.Index(page, `id="operation-op-2"`):]
	op2 = op2[:strings.Index(op2, "</li>")]
	for _, want := range []string{"Une autre demande touche cette mobilité.", "Ne s'applique pas", "Cette fiche n&#39;existe pas dans le référentiel (fiche M1801 does not exist).", "Une autre demande en cours touche le même élément de la fiche", `name="decision-op-2"`, "Motif"} {
		if !strings.Contains(op2, want) {
			t.Errorf("operation 2's block lacks %q", want)
		}
	}
	for _, want := range []string{`data-status="IN_REVIEW">En instruction<`, "Bonjour Alice", "Demande soumise", "Enregistrer la décision", "Poser la question", "ajout</strong> – appellation « Développeur / Développeuse Zig »"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "Prendre en charge") || strings.Contains(page, "Retirer la demande") {
		t.Error("the assignee is offered to take the request or to withdraw it")
	}
}

func TestDecisionFormAmendsAndNeedsItsRationales(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{req: inReview()}
	u := newTestUI(t, intake, nil, nil)
	bob := u.signIn(auth.Principal{Subject: "bob", Name: "Bruno", Role: auth.RoleModerator})

	// Rejecting without a rationale comes back with the message next to its field, choices kept.
	w := bob.post("/demandes/r-1/decision", url.Values{"decision-op-1": {"accepted"}, "decision-op-2": {"rejected"}, "cle": {"console-aaaaaaaaaaaaaaaaaaaa"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="motif-op-2-error"`) ||
		!strings.Contains(w.Body.String(), `id="decision-op-2-rejected" name="decision-op-2" value="rejected" checked`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(intake.calls) != 0 {
		t.Fatalf("the intake was called: %+v", intake.calls)
	}

	// Amending the rank: the partner's operation with the new value, the form's key as the
	// Idempotency-Key, and a redirect to the page with a confirmation.
	w = bob.post("/demandes/r-1/decision", url.Values{
		"decision-op-1": {"accepted"}, "decision-op-2": {"amended"}, "motif-op-2": {"Rang 2 plutôt."},
		"amender-op-2-toCodeRome": {"M1801"}, "amender-op-2-rank": {"2"}, "cle": {"console-bbbbbbbbbbbbbbbbbbbb"},
	})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/demandes/r-1?message=decision" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	call := intake.calls[0]
	decisions := call.Body["decisions"].([]any)
	amended := decisions[1].(map[string]any)
	if call.Path != "/decision" || call.Key != "console-bbbbbbbbbbbbbbbbbbbb" || amended["decision"] != "amended" ||
		amended["amendment"].(map[string]any)["rank"] != float64(2) || amended["amendment"].(map[string]any)["op"] != "add_mobilite" {
		t.Fatalf("the intake got %+v", call)
	}
}

func TestActionsExplainTheIntakesRefusals(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{req: inReview()}
	intake.refuse = func(path string) (int, string) {
		switch {
		case strings.HasSuffix(path, "/questions"):
			return http.StatusConflict, `{"status":409,"code":"invalid_transition","detail":"cannot ask","currentStatus":"AWAITING_PARTNER"}`
		case strings.HasSuffix(path, "/messages"):
			return http.StatusUnprocessableEntity, `{"status":422,"code":"invalid_body","detail":"invalid","errors":[{"field":"text","message":"is at most 10000 characters"}]}`
		}
		return 0, ""
	}
	u := newTestUI(t, intake, nil, nil)
	bob := u.signIn(auth.Principal{Subject: "bob", Name: "Bruno", Role: auth.RoleModerator})

	// A 409: the current state, what changed, and the question typed kept.
	w := bob.post("/demandes/r-1/questions", url.Values{"question": {"Quelles sources ?"}})
	body := w.Body.String()
	if w.Code != http.StatusConflict || !strings.Contains(body, "« En attente du partenaire »") || !strings.Contains(body, "Quelles sources ?</textarea>") {
		t.Fatalf("%d %s", w.Code, body)
	}
	// A 422: the service's message next to the field, in French, the text kept.
	w = bob.post("/demandes/r-1/messages", url.Values{"message": {"Bonjour"}})
	body = w.Body.String()
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="message-error">Ce champ compte au plus 10000 caractères.`) || !strings.Contains(body, "Bonjour</textarea>") {
		t.Fatalf("%d %s", w.Code, body)
	}
	// An empty question never reaches the intake.
	n := len(intake.calls)
	if w := bob.post("/demandes/r-1/questions", url.Values{"question": {"  "}}); w.Code != http.StatusUnprocessableEntity || len(intake.calls) != n {
		t.Fatalf("an empty question: %d, %d calls", w.Code, len(intake.calls)-n)
	}
}

func TestModeratorsTakeOrHandOverARequest(t *testing.T) {
	t.Parallel()
	intake := &fakeIntake{req: inReview()}
	u := newTestUI(t, intake, nil, nil)
	carol := u.signIn(auth.Principal{Subject: "carol", Name: "Carole", Role: auth.RoleModerator})
	if w := carol.post("/demandes/r-1/prise-en-charge", url.Values{}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/demandes/r-1?message=prise#actions" {
		t.Fatalf("take: %d %v", w.Code, w.Header())
	}
	if w := carol.post("/demandes/r-1/prise-en-charge", url.Values{"moderateur": {" dan "}}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/demandes/r-1?message=confiee#actions" {
		t.Fatalf("hand over: %d %v", w.Code, w.Header())
	}
	if got := []any{intake.calls[0].Body["moderator"], intake.calls[1].Body["moderator"]}; got[0] != "carol" || got[1] != "dan" {
		t.Fatalf("the intake was asked to assign %v", got)
	}
}

func TestAPublishedCreationLinksToTheNewFiche(t *testing.T) {
	t.Parallel()
	r := inReview()
	version := 61
	r.Kind, r.CodeRome, r.Status, r.PublishedVersion, r.ChangeSetID = request.KindCreateFromNew, "", request.StatusPublished, &version, "r-1-decision-1"
	referential := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/changesets/r-1-decision-1" {
			http.NotFound(w, req)
			return
		}
		_ = json.NewEncoder(w).Encode(refclient.Publication{ID: "r-1-decision-1", Version: 61,
			Changes: []refclient.Change{{Action: "created", Entity: "fiche", CodeRome: "H2915"}, {Action: "added", Entity: "appellation", CodeRome: "H2915"}}})
	})
	u := newTestUI(t, &fakeIntake{req: r}, referential, nil)
	w := u.partner().get("/demandes/r-1")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<a href="/referentiel/fiches/H2915?version=61">Voir la fiche H2915 dans la version 61</a>`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestAnotherOrganisationsRequestIsNotFound(t *testing.T) {
	t.Parallel()
	u := newTestUI(t, &fakeIntake{req: inReview()}, nil, nil)
	w := u.signIn(auth.Principal{Subject: "olivier", Name: "Olivier", Role: auth.RolePartner, Org: "autre"}).get("/demandes/r-2")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "Page introuvable") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestDecisionProblemField(t *testing.T) {
	t.Parallel()
	decisions := []backend.Decision{{OperationID: "op-1"}, {OperationID: "op-7"}}
	for field, want := range map[string]string{
		"decisions[1].rationale":      "motif-op-7",
		"decisions[0].decision":       "decision-op-1",
		"decisions[1].amendment.rank": "amender-op-7-rank",
		"decisions[1].amendment":      "amendement-op-7",
		"decisions[5].rationale":      "",
		"decisions":                   "",
	} {
		if got := decisionProblemField(field, decisions); got != want {
			t.Errorf("%s → %q, want %q", field, got, want)
		}
	}
}

// The ROME team sees what each operation touches before deciding; a partner does not.
func TestRequestPageShowsTheImpactToTheROMETeam(t *testing.T) {
	t.Parallel()
	r := inReview()
	r.Operations = append(r.Operations, request.RequestOperation{Operation: refclient.Operation{ID: "op-3", Op: refclient.OpRemoveAppellation, CodeOgr: "10944", Reason: "obsolète"}})
	intake := &fakeIntake{req: r, preview: &refclient.Validation{Version: 61, Applies: true, Diff: []refclient.Change{}, Results: []refclient.Result{
		{OperationID: "op-1", Applies: true}, {OperationID: "op-2", Applies: true},
		{OperationID: "op-3", Applies: true, Impact: &refclient.Impact{Fiches: []string{"M1805"}, Subscribers: 3,
			Mobilites:          []refclient.MobiliteImpact{{CodeRome: "M1806", Libelle: "Conseil en maîtrise d'ouvrage", CodeRomeCible: "M1805", Rang: 2}},
			OrphanAppellations: []refclient.ImpactRef{{CodeOgr: "10944", Libelle: "Analyste développeur", CodeRome: "M1805"}},
			OrphanItems:        []refclient.ImpactRef{}}}}}}
	u := newTestUI(t, intake, nil, nil)
	page := u.signIn(auth.Principal{Subject: "bob", Name: "Bruno", Role: auth.RoleModerator}).get("/demandes/r-1").Body.String()
	start := strings.Index(page, `id="impact"`)
	if start < 0 {
		t.Fatalf("no impact section:\n%s", page)
	}
	section := page[start : start+strings.Index(page[start:], "</section>")]
	for _, want := range []string{
		`<h2 id="impact-titre">Impact des opérations</h2>`, "version 61 du référentiel",
		`<h3 class="fr-h6" id="impact-op-3">Opération 3 : `,
		`<a href="/referentiel/fiches/M1805">M1805</a>`,
		`<a href="/referentiel/fiches/M1806">M1806 – Conseil en maîtrise d&#39;ouvrage</a> (mobilité de rang 2 vers M1805)`,
		`Analyste développeur (code OGR 10944, fiche <a href="/referentiel/fiches/M1805">M1805</a>)`,
		"<dt>Éléments rattachés à plus aucune fiche</dt>\n    <dd>Aucun</dd>",
		"<dt>Abonnements webhook notifiés</dt>\n    <dd>3</dd>",
		// The notifications service is down: the rest of the section shows.
		"<dt>Personnes qui suivent ces fiches</dt>\n    <dd>Non disponible : le service des notifications n'a pas répondu.</dd>",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the impact section lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "Opération 1") || strings.Contains(section, "Opération 2") {
		t.Error("operations without an impact are listed")
	}
	partner := u.signIn(auth.Principal{Subject: "alice", Name: "Alice Martin", Role: auth.RolePartner, Org: "opco-2i"}).get("/demandes/r-1").Body.String()
	if strings.Contains(partner, `id="impact"`) {
		t.Error("a partner sees the impact section")
	}
}

// The ROME team sees how many people follow each fiche an operation touches, counted with
// the signed-in person's token, and the checks' finding about them in French.
func TestRequestPageCountsTheFichesFollowers(t *testing.T) {
	t.Parallel()
	r := inReview()
	r.Operations = append(r.Operations,
		request.RequestOperation{Operation: refclient.Operation{ID: "op-3", Op: refclient.OpMoveAppellation, CodeOgr: "10944", ToCodeRome: "M1806"}},
		request.RequestOperation{Operation: refclient.Operation{ID: "op-4", Op: refclient.OpMoveAppellation, CodeOgr: "38584", ToCodeRome: "M1402"}})
	r.Findings = append(r.Findings, request.Finding{Code: request.FindingImpactFollowers, Severity: request.SeverityWarning,
		OperationID: "op-3", Message: "3 person(s) follow M1805"})
	impact := func(fiches ...string) *refclient.Impact {
		return &refclient.Impact{Fiches: fiches, Mobilites: []refclient.MobiliteImpact{}, OrphanAppellations: []refclient.ImpactRef{}, OrphanItems: []refclient.ImpactRef{}}
	}
	intake := &fakeIntake{req: r, preview: &refclient.Validation{Version: 61, Applies: true, Diff: []refclient.Change{}, Results: []refclient.Result{
		{OperationID: "op-1", Applies: true}, {OperationID: "op-2", Applies: true},
		{OperationID: "op-3", Applies: true, Impact: impact("M1805", "M1806")},
		{OperationID: "op-4", Applies: true, Impact: impact("M1805", "M1402")}}}}
	notif := newFakeNotifications()
	notif.followers = map[string]int{"M1805": 3, "M1806": 1}
	u := newTestUI(t, intake, nil, notif)

	page := u.signIn(auth.Principal{Subject: "bob", Name: "Bruno", Role: auth.RoleModerator}).get("/demandes/r-1").Body.String()
	mustContain(t, page,
		`<dd><a href="/referentiel/fiches/M1805">M1805</a> : 3 personnes, <a href="/referentiel/fiches/M1806">M1806</a> : 1 personne</dd>`,
		`<dd><a href="/referentiel/fiches/M1805">M1805</a> : 3 personnes, <a href="/referentiel/fiches/M1402">M1402</a> : aucune</dd>`,
		"Des personnes suivent une fiche que cette opération modifie (3 person(s) follow M1805).")
	if got := notif.calls("GET /v1/follows/counts"); !slices.Equal(got, []string{"Bearer token-bob codeRome=M1805&codeRome=M1806&codeRome=M1402"}) {
		t.Errorf("follower counts asked %q, want each fiche once with bob's token", got)
	}
	u.signIn(auth.Principal{Subject: "alice", Name: "Alice Martin", Role: auth.RolePartner, Org: "opco-2i"}).get("/demandes/r-1")
	if got := notif.calls("GET /v1/follows/counts"); len(got) != 1 {
		t.Errorf("a partner's page counted followers: %q", got)
	}
}
