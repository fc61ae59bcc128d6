package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

// newIdeasUI is the test console in front of the fake intake's ideas and directory.
func newIdeasUI(t *testing.T) (*pagesUI, *fakeIdeas) {
	t.Helper()
	ideas := newFakeIdeas(newFakeDirectory())
	return &pagesUI{newTestUI(t, ideas, nil, newFakeNotifications())}, ideas
}

// visitor is a browser without a session: it keeps the pre-session cookie the idea form
// sets, and the CSRF token the form carries.
type visitor struct {
	t      *testing.T
	ui     *testUI
	cookie *http.Cookie
	csrf   string
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// openIdeaForm shows the idea form to a visitor and returns its page.
func (u *pagesUI) openIdeaForm(t *testing.T) (*visitor, string) {
	t.Helper()
	w := httptest.NewRecorder()
	u.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/idees", nil))
	body := checkPage(t, w, 200, "Proposer une idée")
	v := &visitor{t: t, ui: u.testUI}
	for _, c := range w.Result().Cookies() {
		if c.Name == "rome_presession" {
			v.cookie = c
		}
	}
	if m := csrfInput.FindStringSubmatch(body); m != nil {
		v.csrf = m[1]
	}
	if v.cookie == nil || v.csrf != v.cookie.Value {
		t.Fatalf("the form's CSRF token %q is not its cookie's %v", v.csrf, v.cookie)
	}
	return v, body
}

func (v *visitor) post(path string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "198.51.100.7:40000"
	if v.cookie != nil {
		r.AddCookie(v.cookie)
	}
	w := httptest.NewRecorder()
	v.ui.Handler.ServeHTTP(w, r)
	return w
}

func ideaValues(csrf, text string, more ...string) url.Values {
	f := url.Values{session.CSRFField: {csrf}, "text": {text}, "codeRome": {""}, "codeOgr": {""}, "email": {""}, "website": {""}}
	for i := 0; i+1 < len(more); i += 2 {
		f.Set(more[i], more[i+1])
	}
	return f
}

func TestIdeaForm(t *testing.T) {
	ui, ideas := newIdeasUI(t)
	v, body := ui.openIdeaForm(t)
	mustContain(t, body, `action="/idees"`, `for="idee-texte">Votre idée`, `<textarea class="fr-input" id="idee-texte" name="text"`,
		`for="idee-code-rome">Code ROME (facultatif)`, `for="idee-code-ogr">Code OGR de l&#39;appellation (facultatif)`,
		`for="idee-email">Adresse e-mail pour une réponse (facultatif)`, `type="email"`, "Envoyer l'idée</button>",
		// The honeypot: hidden from assistive technologies and out of the keyboard's way.
		`<div class="console-honeypot" aria-hidden="true">`, `<label for="idee-website">Ne remplissez pas ce champ, laissez-le vide</label>`,
		`name="website" type="text" value="" tabindex="-1" autocomplete="off"`)
	mustNotContain(t, body, `id="navigation"`)

	// Sent: the text keeps its lines, the code is upper-cased, no token goes with it, and
	// the visitor's address is passed on for the intake's rate limit.
	text := "Les cordistes manquent.\nSurtout en montagne."
	location(t, v.post("/idees", ideaValues(v.csrf, text, "codeRome", " m1805 ", "email", "lecteur@example.org")), "/idees/merci")
	if got := ideas.changed("POST /v1/ideas"); len(got) != 1 ||
		got[0] != `{"text":"Les cordistes manquent.\nSurtout en montagne.","codeRome":"M1805","email":"lecteur@example.org"}` {
		t.Errorf("sent %q", got)
	}
	if h := ideas.sent[0]; h.Get("Authorization") != "" || h.Get("X-Forwarded-For") != "198.51.100.7" {
		t.Errorf("sent with Authorization %q and X-Forwarded-For %q", h.Get("Authorization"), h.Get("X-Forwarded-For"))
	}
	w := httptest.NewRecorder()
	ui.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/idees/merci", nil))
	mustContain(t, checkPage(t, w, 200, "Idée envoyée"), "Merci, votre idée est envoyée", `href="/idees">Proposer une autre idée`)

	// Refused: each message next to its field, everything typed kept.
	w = v.post("/idees", ideaValues(v.csrf, "", "codeRome", "M18", "codeOgr", "abc", "email", "lecteur.example.org"))
	body = checkPage(t, w, 422, "Proposer une idée")
	mustContain(t, body, "Le formulaire n'a pas été enregistré",
		`id="idee-texte" name="text" rows="8" required aria-required="true" aria-invalid="true" aria-describedby="idee-texte-error"`,
		`id="idee-texte-error">Ce champ est obligatoire.</p>`,
		`id="idee-code-rome-error">Saisissez un code ROME : une lettre et quatre chiffres, par exemple M1805.</p>`, `value="M18"`,
		`id="idee-code-ogr-error">Saisissez un code OGR : des chiffres, par exemple 10944.</p>`, `value="abc"`,
		`id="idee-email-error">Saisissez une adresse e-mail, par exemple prenom.nom@exemple.fr.</p>`, `value="lecteur.example.org"`)

	// Too many ideas: said so, the text kept.
	body = checkPage(t, v.post("/idees", ideaValues(v.csrf, "Encore une idée", "email", "flood@example.org")), 429, "Proposer une idée")
	mustContain(t, body, "Trop d&#39;idées ont été envoyées", "réessayez dans une heure", ">Encore une idée</textarea>")

	// A robot fills the honeypot in: the intake decides (it keeps nothing), the robot is
	// thanked as anyone.
	n := len(ideas.ideas)
	location(t, v.post("/idees", ideaValues(v.csrf, "Achetez nos montres", "website", "https://spam.example")), "/idees/merci")
	if got := ideas.changed("POST /v1/ideas"); !strings.Contains(got[len(got)-1], `"website":"https://spam.example"`) || len(ideas.ideas) != n {
		t.Errorf("the honeypot was not passed on, or the robot's idea kept: %q", got[len(got)-1])
	}

	// Without the pre-session token: refused, nothing sent, the text kept.
	sent := len(ideas.changed("POST /v1/ideas"))
	body = checkPage(t, v.post("/idees", ideaValues("forged", "Une idée venue d'ailleurs")), 403, "Proposer une idée")
	mustContain(t, body, "Ce formulaire a expiré", "Une idée venue d&#39;ailleurs</textarea>")
	if len(ideas.changed("POST /v1/ideas")) != sent {
		t.Error("an idea was sent without the form's token")
	}
}

// A signed-in person sends an idea too: the form carries their session's token, and the
// idea still goes without theirs.
func TestIdeaFormSignedIn(t *testing.T) {
	ui, ideas := newIdeasUI(t)
	alice := ui.partner()
	body := checkPage(t, alice.get("/idees"), 200, "Proposer une idée")
	mustContain(t, body, `name="csrf" value="`+alice.Session.CSRF+`"`, `id="navigation"`)
	location(t, alice.post("/idees", ideaValues(alice.Session.CSRF, "Une idée d'Alice")), "/idees/merci")
	if h := ideas.sent[0]; h.Get("Authorization") != "" {
		t.Errorf("the idea went with a token: %q", h.Get("Authorization"))
	}
	checkPage(t, alice.post("/idees", ideaValues("forged", "Une autre")), 403, "Accès refusé")
}

func TestSignInPageLinksToIdeas(t *testing.T) {
	ui, _ := newIdeasUI(t)
	w := httptest.NewRecorder()
	ui.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/connexion", nil))
	mustContain(t, checkPage(t, w, 200, "Connexion"), `<a class="fr-link" href="/idees">Vous n'êtes pas expert ? Proposez une idée à l'équipe ROME</a>`)
}

func TestIdeaList(t *testing.T) {
	ui, _ := newIdeasUI(t)
	mod := ui.as(auth.RoleModerator, "mona", "")
	body := checkPage(t, mod.get("/idees/a-traiter"), 200, "Idées reçues – Nouvelles")
	mustContain(t, body, `aria-current="page">Idées</a>`, `href="/idees/a-traiter?statut=new" aria-current="page">Nouvelles</a>`,
		`<caption id="tableau-idees">Idées : Nouvelles</caption>`, `<a href="/idees/idea_000000000000000000000001">Les chauffeurs de navettes autonomes manquent.`,
		"Une idée sans adresse.", "<td>M1805</td>")
	mustNotContain(t, body, "cordiste")
	body = checkPage(t, mod.get("/idees/a-traiter?statut=handed_over"), 200, "Idées reçues – Confiées à une organisation")
	mustContain(t, body, "Le métier de cordiste évolue.", "<td>OPCO 2i</td>")
	checkPage(t, mod.get("/idees/a-traiter?statut=perdue"), 404, "Page introuvable")
	checkPage(t, mod.get("/idees/a-traiter?curseur=bad"), 400, "Demande incorrecte")

	// A partner: the ideas handed to their organisation, whatever the status asked.
	body = checkPage(t, ui.partner().get("/idees/a-traiter?statut=new"), 200, "Idées confiées à votre organisation")
	mustContain(t, body, "Le métier de cordiste évolue.")
	mustNotContain(t, body, "navettes", "Nouvelles</a>")
}

func TestIdeaTeamActions(t *testing.T) {
	ui, ideas := newIdeasUI(t)
	mod := ui.as(auth.RoleModerator, "mona", "")
	const first, noAddress = "/idees/idea_000000000000000000000001", "/idees/idea_000000000000000000000002"

	body := checkPage(t, mod.get(first), 200, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, "Les chauffeurs de navettes autonomes manquent.\nIls sont déjà 200.", "lecteur@example.org", `href="/referentiel/fiches/M1805"`,
		`action="/idees/idea_000000000000000000000001/reponse"`, `for="idee-reponse">Réponse`, "Répondre</button>",
		`for="idee-org">Organisation`, `<option value="opco-2i">OPCO 2i (son domaine couvre M1805)</option>`, "Confier à une organisation</button>",
		`for="idee-motif">Motif`, "Écarter</button>")
	mustNotContain(t, body, "branche-btp") // inactive
	// No address: no reply.
	body = checkPage(t, mod.get(noAddress), 200, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, "aucune : l&#39;auteur ne peut pas recevoir de réponse", "Écarter</button>")
	mustNotContain(t, body, "Répondre</button>")

	// Refusals next to their field, with what was typed.
	body = checkPage(t, mod.post(first+"/ecarter", url.Values{"motif": {"  "}}), 422, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, `id="idee-motif-error">Ce champ est obligatoire.</p>`)
	ideas.dir.orgs["branche-btp"]["active"] = true
	body = checkPage(t, mod.post(first+"/confier", url.Values{"org": {"branche-btp"}}), 422, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, `id="idee-org-error">L&#39;organisation n&#39;a aucun domaine qui couvre M1805 (ses domaines : F).</p>`,
		`<option value="branche-btp" selected>Branche du BTP</option>`)

	// Answered, then handed over.
	location(t, mod.post(first+"/reponse", url.Values{"reponse": {"Merci : nous la confions aux experts."}}), first+"?message=idee-repondue")
	body = checkPage(t, mod.get(first+"?message=idee-repondue"), 200, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, "Votre réponse est envoyée par e-mail", "Répondue", "Merci : nous la confions aux experts.", "Confier à une organisation</button>")
	mustNotContain(t, body, "Écarter</button>", "Répondre</button>")
	location(t, mod.post(first+"/confier", url.Values{"org": {"opco-2i"}}), first+"?message=idee-confiee")
	if got := ideas.changed("POST /v1/ideas/idea_000000000000000000000001/handover"); len(got) != 2 || got[1] != `{"org":"opco-2i"}` {
		t.Errorf("handed over %q", got)
	}
	// Someone acted meanwhile: said so, the page as it is now, the text kept.
	body = checkPage(t, mod.post(first+"/ecarter", url.Values{"motif": {"Hors sujet"}}), 409, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, "Cette idée a été traitée entre-temps", "Confiée à une organisation")
	location(t, mod.post(noAddress+"/ecarter", url.Values{"motif": {"Hors sujet"}}), noAddress+"?message=idee-ecartee")
	body = checkPage(t, mod.post(noAddress+"/reponse", url.Values{"reponse": {"Bonjour"}}), 409, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, "Cette idée a été traitée entre-temps", "Hors sujet")

	checkPage(t, mod.get("/idees/idea_ffffffffffffffffffffffff"), 404, "Page introuvable")
	checkPage(t, ui.partner().post(noAddress+"/ecarter", url.Values{"motif": {"x"}}), 403, "Accès refusé")
}

func TestIdeaHandedToAPartner(t *testing.T) {
	ui, ideas := newIdeasUI(t)
	alice := ui.partner()
	const handed = "/idees/idea_000000000000000000000003"
	body := checkPage(t, alice.get(handed), 200, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, "Le métier de cordiste évolue.", "Confiée à", "OPCO 2i",
		`href="/demandes/nouvelle?codeRome=M1805&amp;type=modify_fiche">Déposer une demande à partir de cette idée</a>`,
		`for="idee-demande-id">Demande déposée à partir de cette idée`, "Enregistrer la demande</button>")
	mustNotContain(t, body, "auteur@example.org", "Écarter</button>", "Confier à une organisation</button>")
	// Another organisation's idea, or a new one, is not theirs to see.
	checkPage(t, alice.get("/idees/idea_000000000000000000000001"), 404, "Page introuvable")

	body = checkPage(t, alice.post(handed+"/demande", url.Values{"demande": {"inconnue"}}), 422, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, `id="idee-demande-id-error">Aucune demande de votre organisation n&#39;a cet identifiant`, `value="inconnue"`)
	// The address of the request's page, pasted, gives its id.
	location(t, alice.post(handed+"/demande", url.Values{"demande": {"http://127.0.0.1:8080/demandes/0b6c-42?message=soumise"}}), handed+"?message=idee-demande")
	if got := ideas.changed("POST /v1/ideas/idea_000000000000000000000003/request"); len(got) != 2 || got[1] != `{"requestId":"0b6c-42"}` {
		t.Errorf("recorded %q", got)
	}
	body = checkPage(t, alice.get(handed), 200, "Idée du 3 déc. 2026 à 9 h 30")
	mustContain(t, body, `<a href="/demandes/0b6c-42">0b6c-42</a>`)
	mustNotContain(t, body, "Enregistrer la demande</button>")
	checkPage(t, ui.as(auth.RoleModerator, "mona", "").post(handed+"/demande", url.Values{"demande": {"x"}}), 403, "Accès refusé")
}
