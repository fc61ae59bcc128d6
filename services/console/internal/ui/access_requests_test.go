package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

// fakeAccess answers the intake's access-request routes from memory, as the intake's API
// does (the applicant's routes take the token of their e-mail's link; the others, an
// admin's bearer), and serves the rest from the fake directory, whose organisations
// approvals name. It records what it is sent ("METHOD /path body") and the submissions'
// headers.
type fakeAccess struct {
	dir  *fakeDirectory
	mu   sync.Mutex
	reqs map[string]map[string]any
	// tokens are each request's link token.
	tokens map[string]string
	changeLog
	// sent are the headers of each POST /v1/access-requests.
	sent []http.Header
}

// The requests the fake starts with, one per status worth testing.
const (
	accToReview  = "acc_000000000000000000000001"
	accToVerify  = "acc_000000000000000000000002"
	accQuestion  = "acc_000000000000000000000003"
	accExpired   = "acc_000000000000000000000004"
	accApproved  = "acc_000000000000000000000005"
	fakeAccessAt = "2026-12-03T08:30:00Z"
)

func newFakeAccess(dir *fakeDirectory) *fakeAccess {
	at := fakeAccessAt
	req := func(id, status, name, email, orgName string, more ...any) map[string]any {
		r := map[string]any{"id": id, "status": status, "name": name, "email": email, "orgName": orgName, "orgKind": "opco",
			"position": "Chargée de mission emploi-formation", "domains": []any{"H", "M1805"},
			"motivation": "Je suis les métiers de l'industrie.\nNos adhérents recrutent des pilotes de ligne automatisée.",
			"messages":   []any{}, "decision": nil, "createdAt": at, "updatedAt": at, "verifiedAt": at, "expiresAt": "2026-12-10T08:30:00Z"}
		for i := 0; i+1 < len(more); i += 2 {
			r[more[i].(string)] = more[i+1]
		}
		return r
	}
	return &fakeAccess{dir: dir,
		reqs: map[string]map[string]any{
			accToReview: req(accToReview, "AWAITING_REVIEW", "Léa Fontaine", "lea.fontaine@opco2i.example", "Opco 2I"),
			accToVerify: req(accToVerify, "AWAITING_VERIFICATION", "Hugo Martin", "hugo@branche.example", "Branche des transports",
				"verifiedAt", nil, "orgKind", "branche_professionnelle", "domains", []any{"N"}),
			accQuestion: req(accQuestion, "AWAITING_APPLICANT", "Inès Garnier", "ines@institut.example", "Institut des métiers",
				"orgKind", "institution", "messages", []any{map[string]any{"from": "team", "by": "ada", "text": "Quelles branches représentez-vous ?", "at": at}}),
			accExpired: req(accExpired, "EXPIRED", "Jules Petit", "jules@exemple.example", "OPCO Santé", "verifiedAt", nil),
			accApproved: req(accApproved, "APPROVED", "Ada Lovelace", "ada@opco2i.example", "OPCO 2i", "personSub", "invited-"+accApproved,
				"decision", map[string]any{"by": "ada", "at": at, "role": "partner", "org": "opco-2i"},
				"messages", []any{map[string]any{"from": "team", "by": "ada", "text": "Votre adresse est-elle celle de l'OPCO ?", "at": at},
					map[string]any{"from": "applicant", "text": "Oui, depuis 2020.", "at": at}}),
		},
		tokens: map[string]string{accToReview: "jeton-01", accToVerify: "jeton-02", accQuestion: "jeton-03", accExpired: "jeton-04", accApproved: "jeton-05"},
	}
}

var fakeAccessID = regexp.MustCompile(`^acc_[0-9a-f]{24}$`)

func (f *fakeAccess) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/dev/token" {
		// The dev issuer knows nobody who is not in the directory.
		problem(w, 403, "unknown_person", "This person is not in the directory.")
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/v1/access-requests") {
		f.dir.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if r.Method == http.MethodPost {
		raw := readAll(r)
		f.record(r, raw)
		_ = json.Unmarshal([]byte(raw), &body)
	}
	if r.Method == http.MethodPost && r.URL.Path == "/v1/access-requests" {
		f.sent = append(f.sent, r.Header.Clone())
		f.submit(w, body)
		return
	}
	id, action, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/access-requests/"), "/")
	if r.URL.Path == "/v1/access-requests" {
		id = ""
	}
	req := f.reqs[id]
	// The applicant's routes: the link's token is the proof.
	switch action {
	case "verify", "applicant", "answer":
		token := str(body["token"])
		if action == "applicant" {
			token = r.URL.Query().Get("token")
		}
		if req == nil || token == "" || f.tokens[id] != token {
			problem(w, 404, "access_request_not_found", "No access request has this id and token.")
			return
		}
		if req["status"] == "EXPIRED" {
			problem(w, 410, "link_expired", "The link has expired.")
			return
		}
		switch action {
		case "verify":
			if req["status"] != "AWAITING_VERIFICATION" {
				f.conflict(w, req)
				return
			}
			req["status"], req["verifiedAt"] = "AWAITING_REVIEW", "2026-12-05T10:00:00Z"
			writeJSON(w, 200, map[string]any{"id": id, "status": req["status"]})
			return
		case "answer":
			if req["status"] != "AWAITING_APPLICANT" {
				f.conflict(w, req)
				return
			}
			if strings.TrimSpace(str(body["text"])) == "" {
				problem(w, 422, "invalid_answer", "The answer is invalid; see errors.", map[string]string{"field": "text", "message": "is required (a text of at most 5000 characters)"})
				return
			}
			req["messages"] = append(req["messages"].([]any), map[string]any{"from": "applicant", "text": body["text"], "at": "2026-12-05T10:00:00Z"})
			req["status"] = "AWAITING_REVIEW"
		}
		messages := []any{}
		for _, m := range req["messages"].([]any) {
			m := m.(map[string]any)
			messages = append(messages, map[string]any{"from": m["from"], "text": m["text"], "at": m["at"]})
		}
		writeJSON(w, 200, map[string]any{"id": id, "status": req["status"], "name": req["name"], "messages": messages})
		return
	}
	// The admins' routes.
	me, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer token-")
	if !ok {
		problem(w, 401, "unauthenticated", "no token")
		return
	}
	f.dir.mu.Lock()
	caller, orgs := f.dir.people[me], f.dir.orgs
	f.dir.mu.Unlock()
	if caller == nil || caller["role"] != "admin" {
		problem(w, 403, "forbidden", "Only admins review access requests.")
		return
	}
	if id == "" {
		q := r.URL.Query()
		items := []map[string]any{}
		for _, req := range sortedValues(f.reqs) {
			if q.Get("status") == "" || req["status"] == q.Get("status") {
				items = append(items, req)
			}
		}
		slices.Reverse(items) // newest first
		counts := map[string]int{}
		for _, req := range f.reqs {
			counts[str(req["status"])]++
		}
		writeJSON(w, 200, map[string]any{"items": items, "counts": counts})
		return
	}
	if req == nil {
		problem(w, 404, "access_request_not_found", "No access request has this id.")
		return
	}
	status := str(req["status"])
	open := status == "AWAITING_REVIEW" || status == "AWAITING_APPLICANT"
	required := func(field string) bool {
		if strings.TrimSpace(str(body[field])) == "" {
			problem(w, 422, "invalid_decision", "The request is invalid; see errors.", map[string]string{"field": field, "message": "is required (a text of at most 2000 characters)"})
			return false
		}
		return true
	}
	switch action {
	case "":
	case "approve":
		if !open {
			f.conflict(w, req)
			return
		}
		var errs []map[string]string
		if o := orgs[str(body["org"])]; o == nil || o["active"] != true {
			errs = append(errs, map[string]string{"field": "org", "message": "names no active organisation of the directory (create it first)"})
		}
		if !slices.Contains(fakeRoles, str(body["role"])) {
			errs = append(errs, map[string]string{"field": "role", "message": "must be one of partner, moderator, admin"})
		}
		if len(errs) > 0 {
			problem(w, 422, "invalid_decision", "The request is invalid; see errors.", errs...)
			return
		}
		req["status"], req["personSub"] = "APPROVED", "invited-"+id
		req["decision"] = map[string]any{"by": me, "at": "2026-12-05T10:00:00Z", "role": body["role"], "org": body["org"]}
	case "ask":
		if status != "AWAITING_REVIEW" {
			f.conflict(w, req)
			return
		}
		if !required("question") {
			return
		}
		req["status"] = "AWAITING_APPLICANT"
		req["messages"] = append(req["messages"].([]any), map[string]any{"from": "team", "by": me, "text": body["question"], "at": "2026-12-05T10:00:00Z"})
	case "reject":
		if !open {
			f.conflict(w, req)
			return
		}
		if !required("reason") {
			return
		}
		req["status"] = "REJECTED"
		req["decision"] = map[string]any{"by": me, "at": "2026-12-05T10:00:00Z", "reason": body["reason"]}
	default:
		problem(w, 404, "route_not_found", "no such route")
		return
	}
	writeJSON(w, 200, req)
}

// conflict answers the intake's 409 for a request whose status does not allow the change.
func (f *fakeAccess) conflict(w http.ResponseWriter, req map[string]any) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(409)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Conflict", "status": 409, "code": "invalid_transition",
		"detail": "Not possible in the access request's status.", "currentStatus": req["status"]})
}

// submit answers POST /v1/access-requests: a robot's application (the honeypot filled
// in) is answered as any other and not kept; the address flood@example.org has sent too
// many.
func (f *fakeAccess) submit(w http.ResponseWriter, body map[string]any) {
	var errs []map[string]string
	for _, field := range []string{"name", "orgName", "position", "motivation"} {
		if strings.TrimSpace(str(body[field])) == "" {
			errs = append(errs, map[string]string{"field": field, "message": "is required (a single line of at most 200 characters)"})
		}
	}
	if e := str(body["email"]); !strings.Contains(e, "@") {
		errs = append(errs, map[string]string{"field": "email", "message": "must be a professional e-mail address such as name@example.org"})
	}
	if !slices.Contains(fakeKinds, str(body["orgKind"])) {
		errs = append(errs, map[string]string{"field": "orgKind", "message": "must be one of " + strings.Join(fakeKinds, ", ")})
	}
	domains, _ := body["domains"].([]any)
	if len(domains) == 0 {
		errs = append(errs, map[string]string{"field": "domains", "message": "must name at least one grand domaine (A to N) or code ROME"})
	}
	for i, d := range domains {
		if !fakeDomain.MatchString(str(d)) {
			errs = append(errs, map[string]string{"field": fmt.Sprintf("domains[%d]", i), "message": "must be a grand domaine (a letter A to N) or a code ROME such as M1805"})
		}
	}
	if len(errs) > 0 {
		problem(w, 422, "invalid_access_request", "The access request is invalid; see errors.", errs...)
		return
	}
	if body["email"] == "flood@example.org" {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(429)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Too Many Requests", "status": 429, "code": "rate_limited",
			"detail": "Too many access requests from this address.", "retryAfter": 1800})
		return
	}
	id := fmt.Sprintf("acc_%024x", len(f.reqs)+100)
	if str(body["website"]) == "" {
		body["id"], body["status"], body["messages"], body["createdAt"], body["updatedAt"] = id, "AWAITING_VERIFICATION", []any{}, "2026-12-05T10:00:00Z", "2026-12-05T10:00:00Z"
		f.reqs[id] = body
		f.tokens[id] = "jeton-nouveau"
	}
	writeJSON(w, 202, map[string]string{"id": id})
}

func (f *fakeAccess) status(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return str(f.reqs[id]["status"])
}

// newAccessUI is the test console in front of the fake intake's access requests and
// directory.
func newAccessUI(t *testing.T) (*pagesUI, *fakeAccess) {
	t.Helper()
	access := newFakeAccess(newFakeDirectory())
	return &pagesUI{newTestUI(t, access, nil, newFakeNotifications())}, access
}

// openPublicPage shows a public page to a visitor (no session), who keeps its
// pre-session cookie and its form's CSRF token.
func (u *pagesUI) openPublicPage(t *testing.T, path string, status int, title string) (*visitor, string) {
	t.Helper()
	w := httptest.NewRecorder()
	u.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	body := checkPage(t, w, status, title)
	v := &visitor{t: t, ui: u.testUI}
	for _, c := range w.Result().Cookies() {
		if c.Name == "rome_presession" {
			v.cookie = c
		}
	}
	if m := csrfInput.FindStringSubmatch(body); m != nil {
		v.csrf = m[1]
	}
	return v, body
}

func (v *visitor) get(path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if v.cookie != nil {
		r.AddCookie(v.cookie)
	}
	w := httptest.NewRecorder()
	v.ui.Handler.ServeHTTP(w, r)
	return w
}

func accessValues(csrf string, more ...string) url.Values {
	f := url.Values{session.CSRFField: {csrf}, "name": {"Léa Fontaine"}, "email": {"lea.fontaine@opco2i.example"}, "orgName": {"OPCO 2i"},
		"orgKind": {"opco"}, "position": {"Chargée de mission"}, "domains": {"H", "M"}, "codesRome": {""},
		"motivation": {"Je suis les métiers de l'industrie.\nEt ceux du support."}, "website": {""}}
	for i := 0; i+1 < len(more); i += 2 {
		if more[i+1] == "-" {
			f.Del(more[i])
			continue
		}
		f.Set(more[i], more[i+1])
	}
	return f
}

func TestAccessForm(t *testing.T) {
	ui, access := newAccessUI(t)
	v, body := ui.openPublicPage(t, "/acces", 200, "Demander un accès")
	if v.cookie == nil || v.csrf != v.cookie.Value {
		t.Fatalf("the form's CSRF token %q is not its cookie's %v", v.csrf, v.cookie)
	}
	mustContain(t, body, `action="/acces"`, `for="acces-nom">Nom`, `autocomplete="name"`,
		`for="acces-email">Adresse électronique professionnelle`, `type="email"`,
		`for="acces-organisation">Organisation`, `for="acces-type">Type d&#39;organisation`, `<option value="branche_professionnelle">Branche professionnelle</option>`,
		`for="acces-fonction">Fonction`, `<legend class="fr-fieldset__legend" id="acces-domaines-legende">Domaines d'expertise`,
		`<input type="checkbox" id="acces-domaine-A" name="domains" value="A">`,
		`<label class="fr-label" for="acces-domaine-M">Support à l&#39;entreprise (M)</label>`,
		`for="acces-codes">Codes ROME`, `for="acces-motivation">Motivation`, "Demander un accès</button>",
		// The honeypot, as the idea form's.
		`<div class="console-honeypot" aria-hidden="true">`, `<label for="acces-website">Ne remplissez pas ce champ, laissez-le vide</label>`,
		`name="website" type="text" value="" tabindex="-1" autocomplete="off"`)
	if n := strings.Count(body, `type="checkbox"`); n != 14 {
		t.Errorf("%d checkboxes, want the 14 grands domaines", n)
	}
	mustNotContain(t, body, `id="navigation"`)

	// Sent: the domains ticked then the codes typed, upper-cased; no token goes with it and
	// the visitor's address is passed on for the intake's rate limit.
	location(t, v.post("/acces", accessValues(v.csrf, "codesRome", " m1805, M1806 ")), "/acces/merci")
	got := access.changed("POST /v1/access-requests")
	if len(got) != 1 || got[0] != `{"name":"Léa Fontaine","email":"lea.fontaine@opco2i.example","orgName":"OPCO 2i","orgKind":"opco","position":"Chargée de mission",`+
		`"domains":["H","M","M1805","M1806"],"motivation":"Je suis les métiers de l'industrie.\nEt ceux du support.","website":""}` {
		t.Errorf("sent %q", got)
	}
	if h := access.sent[0]; h.Get("Authorization") != "" || h.Get("X-Forwarded-For") != "198.51.100.7" {
		t.Errorf("sent with Authorization %q and X-Forwarded-For %q", h.Get("Authorization"), h.Get("X-Forwarded-For"))
	}
	mustContain(t, checkPage(t, v.get("/acces/merci"), 200, "Demande d'accès envoyée"), "Vérifiez votre messagerie", "ouvrez le lien qu'il contient")

	// Refused: each message next to its field, everything typed kept, the boxes ticked.
	w := v.post("/acces", accessValues(v.csrf, "name", "", "email", "lea.example.org", "orgKind", "", "domains", "F", "codesRome", "M18, m1805", "motivation", "Mon texte\ngardé"))
	body = checkPage(t, w, 422, "Demander un accès")
	mustContain(t, body, "Le formulaire n'a pas été enregistré",
		`id="acces-nom" name="name" type="text" value="" required aria-required="true" autocomplete="name" aria-invalid="true" aria-describedby="acces-nom-error"`,
		`id="acces-nom-error">Ce champ est obligatoire.</p>`,
		`id="acces-email-error">Saisissez votre adresse électronique professionnelle, par exemple prenom.nom@organisation.fr.</p>`, `value="lea.example.org"`,
		`id="acces-type-error">Choisissez le type de votre organisation.</p>`,
		`id="acces-codes-error">Code non reconnu : « M18 ». Saisissez des codes ROME`, `value="M18, m1805"`,
		`<input type="checkbox" id="acces-domaine-F" name="domains" value="F" checked>`,
		`>Mon texte
gardé</textarea>`, `value="OPCO 2i"`)
	mustNotContain(t, body, `id="acces-domaines-erreur"`)
	// No domain at all: said on the group.
	body = checkPage(t, v.post("/acces", accessValues(v.csrf, "domains", "-")), 422, "Demander un accès")
	mustContain(t, body, `<fieldset class="fr-fieldset fr-fieldset--error" id="acces-domaines" aria-labelledby="acces-domaines-legende acces-domaines-erreur">`,
		`id="acces-domaines-erreur">Cochez au moins un grand domaine, ou saisissez au moins un code ROME.</p>`)

	// Too many: said so, with when to try again, everything kept.
	body = checkPage(t, v.post("/acces", accessValues(v.csrf, "email", "flood@example.org")), 429, "Demander un accès")
	mustContain(t, body, "Trop de demandes d&#39;accès ont été envoyées", "réessayez dans 30 minutes", `value="flood@example.org"`)

	// A robot fills the honeypot in: the intake decides (it keeps nothing), the robot is
	// thanked as anyone.
	n := len(access.reqs)
	location(t, v.post("/acces", accessValues(v.csrf, "website", "https://spam.example")), "/acces/merci")
	if got := access.changed("POST /v1/access-requests"); !strings.Contains(got[len(got)-1], `"website":"https://spam.example"`) || len(access.reqs) != n {
		t.Errorf("the honeypot was not passed on, or the robot's request kept: %q", got[len(got)-1])
	}

	// Without the pre-session token: refused, nothing sent, everything kept.
	sent := len(access.changed("POST /v1/access-requests"))
	body = checkPage(t, v.post("/acces", accessValues("forged", "name", "Nom gardé")), 403, "Demander un accès")
	mustContain(t, body, "Ce formulaire a expiré", `value="Nom gardé"`)
	if len(access.changed("POST /v1/access-requests")) != sent {
		t.Error("an access request was sent without the form's token")
	}
}

// A signed-in person may apply too (for another organisation, say): the form carries
// their session's token, and the application goes without theirs.
func TestAccessFormSignedIn(t *testing.T) {
	ui, access := newAccessUI(t)
	alice := ui.partner()
	mustContain(t, checkPage(t, alice.get("/acces"), 200, "Demander un accès"), `name="csrf" value="`+alice.Session.CSRF+`"`, `id="navigation"`)
	location(t, alice.post("/acces", accessValues(alice.Session.CSRF)), "/acces/merci")
	if h := access.sent[0]; h.Get("Authorization") != "" {
		t.Errorf("the access request went with a token: %q", h.Get("Authorization"))
	}
	checkPage(t, alice.post("/acces", accessValues("forged")), 403, "Accès refusé")
}

func TestSignInLinksToAccess(t *testing.T) {
	ui, _ := newAccessUI(t)
	v, body := ui.openPublicPage(t, "/connexion", 200, "Connexion")
	mustContain(t, body, `<a class="fr-link" href="/acces">Demander un accès</a>`)
	// Refused because the directory does not know them: the refusal offers to apply, once.
	body = checkPage(t, v.post("/connexion/dev", url.Values{session.CSRFField: {v.csrf}, "sub": {"zoe"}, "role": {"moderator"}}), 403, "Connexion")
	mustContain(t, body, "Votre compte n&#39;est pas enregistré sur la plateforme", `<p><a class="fr-link" href="/acces">Demander un accès</a></p></div>`)
	if n := strings.Count(body, `href="/acces"`); n != 1 {
		t.Errorf("%d links to /acces, want 1", n)
	}
}

func TestAccessVerify(t *testing.T) {
	ui, access := newAccessUI(t)
	link := "/acces/" + accToVerify + "/verifier?jeton=jeton-02"

	// Opening the link (as a mail scanner does) verifies nothing: the button does.
	v, body := ui.openPublicPage(t, link, 200, "Confirmer votre adresse")
	mustContain(t, body, `action="/acces/`+accToVerify+`/verifier"`, `<input type="hidden" name="jeton" value="jeton-02">`, "Confirmer mon adresse</button>")
	if got := access.changed("POST /v1/access-requests/" + accToVerify + "/verify"); len(got) != 0 || access.status(accToVerify) != "AWAITING_VERIFICATION" {
		t.Fatalf("opening the link verified the address: %q", got)
	}
	checkPage(t, v.get("/acces/"+accToVerify+"/verifier"), 404, "Lien non valide")

	// Without the page's token: nothing sent.
	body = checkPage(t, v.post("/acces/"+accToVerify+"/verifier", url.Values{session.CSRFField: {"forged"}, "jeton": {"jeton-02"}}), 403, "Confirmer votre adresse")
	mustContain(t, body, "Cette page a expiré", `value="jeton-02"`)
	if access.status(accToVerify) != "AWAITING_VERIFICATION" {
		t.Fatal("verified without the page's token")
	}

	location(t, v.post("/acces/"+accToVerify+"/verifier", url.Values{session.CSRFField: {v.csrf}, "jeton": {"jeton-02"}}), "/acces/adresse-confirmee")
	if got := access.changed("POST /v1/access-requests/" + accToVerify + "/verify"); len(got) != 1 || got[0] != `{"token":"jeton-02"}` {
		t.Errorf("verified with %q", got)
	}
	mustContain(t, checkPage(t, v.get("/acces/adresse-confirmee"), 200, "Adresse confirmée"), "Votre adresse est confirmée", "L&#39;équipe ROME va examiner votre demande")

	// Again (a second click, a reload): said kindly.
	body = checkPage(t, v.post("/acces/"+accToVerify+"/verifier", url.Values{session.CSRFField: {v.csrf}, "jeton": {"jeton-02"}}), 200, "Adresse déjà confirmée")
	mustContain(t, body, "Votre adresse est déjà confirmée", "entre les mains de l&#39;équipe ROME")
	body = checkPage(t, v.post("/acces/"+accApproved+"/verifier", url.Values{session.CSRFField: {v.csrf}, "jeton": {"jeton-05"}}), 200, "Adresse déjà confirmée")
	mustContain(t, body, "approuvée", `href="/connexion">Se connecter à la plateforme</a>`)

	// A wrong token, an expired link.
	body = checkPage(t, v.post("/acces/"+accToVerify+"/verifier", url.Values{session.CSRFField: {v.csrf}, "jeton": {"faux"}}), 404, "Lien non valide")
	mustContain(t, body, "Ce lien n&#39;est pas valide", `href="/acces">Faire une nouvelle demande d'accès</a>`)
	body = checkPage(t, v.post("/acces/"+accExpired+"/verifier", url.Values{session.CSRFField: {v.csrf}, "jeton": {"jeton-04"}}), 410, "Lien expiré")
	mustContain(t, body, "Ce lien a expiré", "Faites une nouvelle demande", `href="/acces">Faire une nouvelle demande d'accès</a>`)
}

func TestAccessAnswer(t *testing.T) {
	ui, access := newAccessUI(t)
	link := "/acces/" + accQuestion + "/repondre?jeton=jeton-03"
	v, body := ui.openPublicPage(t, link, 200, "Répondre à l'équipe ROME")
	mustContain(t, body, "Demande de Inès Garnier", "En attente du demandeur", "<strong>Équipe ROME</strong>", "Quelles branches représentez-vous ?",
		`action="/acces/`+accQuestion+`/repondre"`, `<input type="hidden" name="jeton" value="jeton-03">`, `for="acces-reponse">Réponse`, "Répondre</button>")
	mustNotContain(t, body, "ada") // the admin's name is the team's

	body = checkPage(t, v.post("/acces/"+accQuestion+"/repondre", url.Values{session.CSRFField: {v.csrf}, "jeton": {"jeton-03"}, "reponse": {"  "}}), 422, "Répondre à l'équipe ROME")
	mustContain(t, body, `id="acces-reponse-error">Ce champ est obligatoire.</p>`)
	body = checkPage(t, v.post("/acces/"+accQuestion+"/repondre", url.Values{session.CSRFField: {"forged"}, "jeton": {"jeton-03"}, "reponse": {"Texte gardé"}}), 403, "Répondre à l'équipe ROME")
	mustContain(t, body, "Cette page a expiré", ">Texte gardé</textarea>")

	answer := "La métallurgie et la plasturgie.\nDepuis 2019."
	location(t, v.post("/acces/"+accQuestion+"/repondre", url.Values{session.CSRFField: {v.csrf}, "jeton": {"jeton-03"}, "reponse": {answer}}),
		"/acces/"+accQuestion+"/repondre?jeton=jeton-03&message=acces-reponse")
	if got := access.changed("POST /v1/access-requests/" + accQuestion + "/answer"); len(got) != 2 || got[1] != `{"text":"La métallurgie et la plasturgie.\nDepuis 2019.","token":"jeton-03"}` {
		t.Errorf("answered %q", got)
	}
	body = checkPage(t, v.get(link+"&message=acces-reponse"), 200, "Répondre à l'équipe ROME")
	mustContain(t, body, "Votre réponse est envoyée à l&#39;équipe ROME", "À examiner", "<strong>Vous</strong>", answer, "L'équipe ROME examine votre demande")
	mustNotContain(t, body, "Répondre</button>")

	// No question waits: said so, the text shown so as not to be lost.
	body = checkPage(t, v.post("/acces/"+accQuestion+"/repondre", url.Values{session.CSRFField: {v.csrf}, "jeton": {"jeton-03"}, "reponse": {"Encore un mot"}}), 409, "Répondre à l'équipe ROME")
	mustContain(t, body, "Aucune question de l&#39;équipe ROME n&#39;attend de réponse", "Encore un mot")

	checkPage(t, v.get("/acces/"+accQuestion+"/repondre?jeton=faux"), 404, "Lien non valide")
	checkPage(t, v.get("/acces/"+accQuestion+"/repondre"), 404, "Lien non valide")
	checkPage(t, v.get("/acces/"+accExpired+"/repondre?jeton=jeton-04"), 410, "Lien expiré")
}

func TestAccessAdminList(t *testing.T) {
	ui, _ := newAccessUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")
	body := checkPage(t, admin.get("/administration/acces"), 200, "Demandes d'accès – À examiner")
	mustContain(t, body, `aria-current="page">Administration</a>`, `href="/administration/acces?statut=AWAITING_REVIEW" aria-current="page">À examiner (1)</a>`,
		`href="/administration/acces?statut=toutes">Toutes (5)</a>`, `href="/administration/acces?statut=EXPIRED">Expirées (1)</a>`,
		`<caption id="tableau-acces">Demandes d'accès : À examiner (1)</caption>`,
		`<a href="/administration/acces/`+accToReview+`">Léa Fontaine</a>`, "lea.fontaine@opco2i.example", "Opco 2I", "H, M1805", "<td>À examiner</td>")
	mustNotContain(t, body, "Hugo Martin")
	body = checkPage(t, admin.get("/administration/acces?statut=toutes"), 200, "Demandes d'accès – Toutes")
	mustContain(t, body, "Hugo Martin", "Adresse à vérifier", "Expirée", "Approuvée", "En attente du demandeur")
	if strings.Index(body, "Ada Lovelace") > strings.Index(body, "Léa Fontaine") {
		t.Error("the list is not newest first")
	}
	mustContain(t, checkPage(t, admin.get("/administration/acces?statut=EXPIRED"), 200, "Demandes d'accès – Expirées"), "Jules Petit")
	checkPage(t, admin.get("/administration/acces?statut=perdue"), 404, "Page introuvable")
	// The administration page leads there.
	mustContain(t, checkPage(t, admin.get("/administration"), 200, "Administration"), `<a href="#acces">Demandes d'accès</a>`,
		`<a class="fr-btn" href="/administration/acces">Examiner les demandes d'accès</a>`)
}

func TestAccessAdminOnly(t *testing.T) {
	ui, access := newAccessUI(t)
	for _, role := range []auth.Role{auth.RolePartner, auth.RoleModerator} {
		b := ui.as(role, "someone-"+string(role), "opco-2i")
		checkPage(t, b.get("/administration/acces"), 403, "Accès refusé")
		checkPage(t, b.get("/administration/acces/"+accToReview), 403, "Accès refusé")
		checkPage(t, b.post("/administration/acces/"+accToReview+"/approbation", url.Values{"org": {"opco-2i"}, "role": {"admin"}}), 403, "Accès refusé")
		checkPage(t, b.post("/administration/acces/"+accToReview+"/question", url.Values{"question": {"?"}}), 403, "Accès refusé")
		checkPage(t, b.post("/administration/acces/"+accToReview+"/refus", url.Values{"motif": {"non"}}), 403, "Accès refusé")
	}
	if len(access.entries) != 0 {
		t.Errorf("a non-admin reached the intake: %q", access.entries)
	}
	// Signed out: to the sign-in page, and back after.
	w := httptest.NewRecorder()
	ui.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/administration/acces", nil))
	location(t, w, "/connexion?retour=%2Fadministration%2Facces")
}

func TestAccessAdminDecisions(t *testing.T) {
	ui, access := newAccessUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")
	page := "/administration/acces/" + accToReview
	const title = "Demande d'accès de Léa Fontaine"

	body := checkPage(t, admin.get(page), 200, title)
	mustContain(t, body, "Léa Fontaine", "lea.fontaine@opco2i.example", "Opco 2I", "<dd>OPCO</dd>", "Chargée de mission emploi-formation",
		"H – Industrie", `<a href="/referentiel/fiches/M1805">M1805</a>`, "Je suis les métiers de l&#39;industrie.\nNos adhérents",
		"Aucun échange pour le moment.",
		// Approve: the organisation whose name is the applicant's preselected, the inactive
		// ones left out, partner proposed; the way to add one when none fits.
		`action="/administration/acces/`+accToReview+`/approbation"`, `for="acces-org">Organisation`, `<option value="opco-2i" selected>OPCO 2i</option>`,
		`href="/administration/organisations/nouvelle?domaines=H&#43;M1805&amp;nom=Opco&#43;2I&amp;type=opco">Ajouter l'organisation « Opco 2I » à l'annuaire</a>`,
		`for="acces-role">Rôle`, `<option value="partner" selected>Partenaire</option>`, `<option value="admin">Administration</option>`, "Approuver</button>",
		`for="acces-question">Question`, "Poser la question</button>", `for="acces-motif">Motif`, "Refuser la demande</button>")
	mustNotContain(t, body, "branche-btp")

	// Refusals next to their field, with what was typed.
	body = checkPage(t, admin.post(page+"/approbation", url.Values{"org": {""}, "role": {"moderator"}}), 422, title)
	mustContain(t, body, `id="acces-org-error">Choisissez une organisation active de l&#39;annuaire, ou ajoutez-la d&#39;abord.</p>`, `<option value="moderator" selected>`)
	body = checkPage(t, admin.post(page+"/question", url.Values{"question": {" "}}), 422, title)
	mustContain(t, body, `id="acces-question-error">Ce champ est obligatoire.</p>`)

	// A question: the request waits for the applicant; no second question meanwhile.
	location(t, admin.post(page+"/question", url.Values{"question": {"Quelle est votre branche ?"}}), page+"?message=acces-question")
	body = checkPage(t, admin.get(page+"?message=acces-question"), 200, title)
	mustContain(t, body, "Votre question est envoyée par e-mail au demandeur", "En attente du demandeur", "<strong>Équipe ROME (ada)</strong>",
		"Quelle est votre branche ?", "Approuver</button>", "Refuser la demande</button>")
	mustNotContain(t, body, "Poser la question</button>")

	// Rejected; an approval sent meanwhile from an older page is refused and says so.
	location(t, admin.post(page+"/refus", url.Values{"motif": {"Organisation hors du champ."}}), page+"?message=acces-refuse")
	if got := access.changed("POST /v1/access-requests/" + accToReview + "/reject"); len(got) != 1 || got[0] != `{"reason":"Organisation hors du champ."}` {
		t.Errorf("rejected with %q", got)
	}
	body = checkPage(t, admin.post(page+"/approbation", url.Values{"org": {"opco-2i"}, "role": {"partner"}}), 409, title)
	mustContain(t, body, "Cette demande a changé entre-temps : elle est maintenant « Refusée »", "Motif du refus", "Organisation hors du champ.", "Cette demande est close")
	mustNotContain(t, body, "Approuver</button>")
	body = checkPage(t, admin.post(page+"/refus", url.Values{"motif": {"Un autre motif"}}), 409, title)
	mustContain(t, body, "Votre texte, qui n'a pas été envoyé", "Un autre motif")

	// Approved: the organisation and the role go to the intake.
	other := "/administration/acces/" + accQuestion
	location(t, admin.post(other+"/approbation", url.Values{"org": {"opco-2i"}, "role": {"partner"}}), other+"?message=acces-approuve")
	if got := access.changed("POST /v1/access-requests/" + accQuestion + "/approve"); len(got) != 1 || got[0] != `{"org":"opco-2i","role":"partner"}` {
		t.Errorf("approved with %q", got)
	}
	body = checkPage(t, admin.get(other+"?message=acces-approuve"), 200, "Demande d'accès de Inès Garnier")
	mustContain(t, body, "La demande est approuvée", "Approuvée par ada", "<dd>Partenaire</dd>", `<a href="/administration/organisations/opco-2i">OPCO 2i</a>`,
		`<a href="/administration/personnes/invited-`+accQuestion+`">`)

	// Closed: what was decided and said, nothing more to decide.
	body = checkPage(t, admin.get("/administration/acces/"+accApproved), 200, "Demande d'accès de Ada Lovelace")
	mustContain(t, body, "<strong>Équipe ROME (ada)</strong>", "<strong>Le demandeur</strong>", "Oui, depuis 2020.", "Cette demande est close")
	mustNotContain(t, body, "Approuver</button>", "Poser la question</button>", "Refuser la demande</button>")

	// Awaiting verification: nothing to decide yet.
	body = checkPage(t, admin.get("/administration/acces/"+accToVerify), 200, "Demande d'accès de Hugo Martin")
	mustContain(t, body, "pas encore confirmé son adresse")
	mustNotContain(t, body, "Approuver</button>", "Poser la question</button>", "Refuser la demande</button>")

	checkPage(t, admin.get("/administration/acces/acc_ffffffffffffffffffffffff"), 404, "Page introuvable")
	checkPage(t, admin.post("/administration/acces/acc_ffffffffffffffffffffffff/refus", url.Values{"motif": {"x"}}), 404, "Page introuvable")
}

// The organisation form opens filled in from an access request's link.
func TestNewOrganisationFromAccessRequest(t *testing.T) {
	ui, _ := newAccessUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")
	body := checkPage(t, admin.get("/administration/organisations/nouvelle?nom=OPCO+Mobilit%C3%A9s&type=opco&domaines=N+M1805"), 200, "Nouvelle organisation")
	mustContain(t, body, `value="OPCO Mobilités"`, `<option value="opco" selected>OPCO</option>`, `value="N M1805"`)
	body = checkPage(t, admin.get("/administration/organisations/nouvelle?type=inconnu"), 200, "Nouvelle organisation")
	mustContain(t, body, `<option value="">Choisir un type</option>`)
}

func TestApprovalChoices(t *testing.T) {
	t.Parallel()
	orgs := []backend.Organisation{
		{ID: "opco-2i", Name: "OPCO 2i", Active: true}, {ID: "opco-mobilites", Name: "OPCO Mobilités", Active: true},
		{ID: "branche-btp", Name: "Branche du BTP"}, {ID: "institut-metiers", Name: "Institut national des métiers d'art", Active: true},
	}
	for _, c := range []struct{ applicant, want string }{
		{"Opco 2I", "opco-2i"}, {"opco mobilites", "opco-mobilites"}, {"OPCO-Mobilités", "opco-mobilites"},
		{"opco-2i", "opco-2i"}, {"Institut des métiers", ""}, {"Branche du BTP", ""}, {"Mobilités", "opco-mobilites"},
		{"OPCO", ""}, {"", ""},
	} {
		got, match := approvalChoices(orgs, c.applicant)
		if match != c.want {
			t.Errorf("%q matches %q, want %q", c.applicant, match, c.want)
		}
		if len(got) != 3 || got[0].Label != "Institut national des métiers d'art" {
			t.Errorf("choices %v", got)
		}
	}
}

func TestRetryIn(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"retryAfter":3600}`: "dans une heure", `{"retryAfter":1800}`: "dans 30 minutes", `{"retryAfter":30}`: "dans une minute",
		`{"retryAfter":7200}`: "dans 2 heures", `{}`: "plus tard",
	} {
		if got := retryIn(&backend.Error{Body: []byte(body)}); got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

// A confirmation sent again tells what became of the request; an expired one is the
// expired link's page.
func TestAlreadyVerified(t *testing.T) {
	t.Parallel()
	for current, want := range map[string]int{"AWAITING_REVIEW": 200, "APPROVED": 200, "REJECTED": 200, "EXPIRED": 410, "": 200} {
		status, o := alreadyVerified(&backend.Error{Status: 409, Body: []byte(`{"currentStatus":"` + current + `"}`)})
		if status != want || o.Heading == "" || o.Title == "" {
			t.Errorf("%s: %d %+v", current, status, o)
		}
	}
}
