package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

func TestFichePage(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	partner := ui.as(auth.RolePartner, "alice", "opco-2i")

	body := checkPage(t, partner.get("/referentiel/fiches/M1805"), 200, "Fiche M1805 – Développeur / Développeuse web")
	mustContain(t, body, "<strong>Version 61</strong>", "Support à l&#39;entreprise", "Systèmes d&#39;information et de télécommunication",
		"<p>Conçoit, développe et maintient des applications.</p>", "<li>Analyse les besoins</li>", "Bac&#43;2",
		"Transition numérique</dt><dd>Oui", "Emploi réglementé</dt><dd>Non renseigné",
		`<caption id="tableau-appellations">Appellations de la fiche M1805, version 61</caption>`, "<strong>Principale</strong>", "Développeur / Développeuse no-code",
		"Concevoir une application (1)", "Cœur de métier : Émergente", "Faire preuve d&#39;autonomie", "Domaines d&#39;expertise", "HTML",
		"Possibilité de télétravail", `for="fiche-version"`, "Voir la fiche à la version", `<option value="60">Version 60`,
		`href="/referentiel/fiches/M1805/historique"`, `href="/referentiel/fiches/M1805/comparaison?de=60&amp;a=61"`,
		`action="/referentiel/fiches/M1805/suivi"`, "Suivre cette fiche",
		`href="/demandes/nouvelle?codeRome=M1805"`, "Proposer une évolution de cette fiche")
	// Mobilités are ranked.
	if i, j := strings.Index(body, "M1802"), strings.Index(body, "M1806"); i < 0 || j < 0 || i > j {
		t.Errorf("mobilités not in rank order")
	}

	// Moderators do not propose evolutions; the version of the past is time travel.
	mod := ui.as(auth.RoleModerator, "mona", "")
	body = checkPage(t, mod.get("/referentiel/fiches/M1805?version=60"), 200, "Fiche M1805 – Développeur / Développeuse web (version 60)")
	mustContain(t, body, "<strong>Version 60</strong>", "telle qu'elle était à la version 60", `<option value="60" selected>`,
		"Cœur de métier : Principale", "Maquetter une interface")
	mustNotContain(t, body, "Proposer une évolution", "no-code")

	// A lower-case code goes to its address.
	if w := partner.get("/referentiel/fiches/m1805?version=60"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/referentiel/fiches/M1805?version=60" {
		t.Errorf("lower case: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestFichePageProvenance(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")
	body := checkPage(t, v.get("/referentiel/fiches/M1805"), 200, "Fiche M1805 – Développeur / Développeuse web")
	mustContain(t, body, `<a class="fr-summary__link" href="#provenance">Provenance des éléments</a>`, `<h2 id="provenance" class="fr-mt-5w">Provenance des éléments</h2>`,
		"2 élément(s) de la fiche viennent de l'import officiel de la version 60 (« ROME 4.0 version 60 - 25M09 ») et n'ont pas changé depuis.",
		`<caption id="tableau-provenance">Éléments de la fiche M1805 introduits ou modifiés depuis l'import officiel, version 61</caption>`,
		`<tr><td>Définition</td><td>Version 60 – import officiel</td><td>Version 61 – demande <a href="/demandes/req-1">req-1</a></td></tr>`,
		`<tr><td>Appellation : Développeur / Développeuse no-code <span class="fr-text--xs console-muted">(900001)</span></td><td>Version 61 – demande <a href="/demandes/req-1">req-1</a></td><td>Aucune</td></tr>`,
		`Mobilité vers : Expertise <span class="fr-text--xs console-muted">(M1802)</span>`)
	mustNotContain(t, body, "Appellation : Développeur / Développeuse web")

	// At version 60 everything comes from the import.
	body = checkPage(t, v.get("/referentiel/fiches/M1805?version=60"), 200, "Fiche M1805 – Développeur / Développeuse web (version 60)")
	mustContain(t, body, "4 élément(s) de la fiche viennent de l'import officiel de la version 60", "Aucun élément n'a été introduit ni modifié par une demande.")
	mustNotContain(t, body, "tableau-provenance")

	// Without the provenance, the fiche still shows.
	down := newPagesUI(t, &fakeReferential{provenanceDown: true}, emptyNotifications()).as(auth.RolePartner, "alice", "opco-2i")
	body = checkPage(t, down.get("/referentiel/fiches/M1805"), 200, "Fiche M1805 – Développeur / Développeuse web")
	mustContain(t, body, "la provenance des éléments n'est pas disponible", "Analyse les besoins")
}

func TestFichePageErrors(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/M9999"), 404, "Page introuvable"), "Erreur 404")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/ZZ"), 404, "Page introuvable"), "n&#39;est pas un code ROME")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/M1805?version=12"), 404, "Page introuvable"),
		"La fiche M1805 n&#39;existe pas à la version 12", `href="/referentiel/fiches/M1805"`)
	checkPage(t, v.get("/referentiel/fiches/M1805?version=abc"), 400, "Demande incorrecte")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/M9999/historique"), 404, "Page introuvable"), "Erreur 404")

	// Signed out: to the sign-in page, and back.
	w := httptest.NewRecorder()
	ui.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/referentiel/fiches/M1805", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/connexion?retour=%2Freferentiel%2Ffiches%2FM1805" {
		t.Errorf("signed out: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestFicheFollow(t *testing.T) {
	notif := newFakeNotifications()
	ui := newPagesUI(t, &fakeReferential{}, notif)
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	location(t, v.post("/referentiel/fiches/M1805/suivi", nil), "/referentiel/fiches/M1805?message=suivie")
	if got := notif.calls("POST /v1/follows"); len(got) != 1 || got[0] != `{"codeRome":"M1805"}` {
		t.Fatalf("follow calls %q", got)
	}
	body := checkPage(t, v.get("/referentiel/fiches/M1805?message=suivie"), 200, "Fiche M1805 – Développeur / Développeuse web")
	mustContain(t, body, "Vous suivez désormais cet élément", "Vous suivez cette fiche", "Ne plus suivre cette fiche",
		`name="retour" value="/referentiel/fiches/M1805"`)
	mustNotContain(t, body, ">Suivre cette fiche<")

	// Without the form's CSRF token: refused, nothing followed.
	w := v.post("/referentiel/fiches/M1805/suivi", url.Values{"csrf": {"forged"}})
	checkPage(t, w, 403, "Accès refusé")
	if got := notif.calls("POST /v1/follows"); len(got) != 1 {
		t.Errorf("a forged form followed: %q", got)
	}
	checkPage(t, v.post("/referentiel/fiches/X1/suivi", nil), 404, "Page introuvable")
}

// A large fiche (as H1206, the largest of ROME v460: 121 appellations) stays under 60 KB.
func TestFichePageSize(t *testing.T) {
	big := testFiche(61)
	big.Libelle = "Conception et dessin produits mécaniques et industriels"
	big.Appellations = nil
	for i := range 130 {
		big.Appellations = append(big.Appellations, backend.Appellation{CodeOgr: fmt.Sprint(10000 + i),
			Libelle:      fmt.Sprintf("Dessinateur projeteur / Dessinatrice projeteuse en construction mécanique %d", i),
			LibelleCourt: fmt.Sprintf("Dessinateur projeteur / Dessinatrice projeteuse %d", i), Classification: "SYNONYME"})
	}
	big.Competences.SavoirFaire = nil
	for m := range 20 {
		mc := backend.MacroCompetence{CodeOgr: fmt.Sprint(300000 + m), Libelle: fmt.Sprintf("Concevoir et dessiner des ensembles mécaniques %d", m)}
		for c := range 6 {
			mc.Competences = append(mc.Competences, backend.Item{CodeOgr: fmt.Sprint(120000 + m*10 + c),
				Libelle: fmt.Sprintf("Réaliser les plans de définition d'un produit mécanique %d-%d", m, c), CoeurMetier: ptr("PRINCIPALE")})
		}
		big.Competences.SavoirFaire = append(big.Competences.SavoirFaire, mc)
	}
	big.Savoirs = nil
	for c := range 5 {
		sc := backend.SavoirCategorie{Categorie: fmt.Sprintf("Catégorie de savoirs %d", c)}
		for s := range 12 {
			sc.Savoirs = append(sc.Savoirs, backend.Savoir{Item: backend.Item{CodeOgr: fmt.Sprint(100000 + c*100 + s), Libelle: fmt.Sprintf("Logiciels de conception assistée par ordinateur %d", s)}})
		}
		big.Savoirs = append(big.Savoirs, sc)
	}
	for i := range 10 {
		big.Mobilites = append(big.Mobilites, backend.Mobilite{CodeRome: fmt.Sprintf("H12%02d", i), Libelle: "Conception et dessin de produits électriques et électroniques", Rang: i + 3})
	}
	ref := &fakeReferential{fiche: big}
	ui := newPagesUI(t, ref, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")
	w := v.get("/referentiel/fiches/M1805")
	checkPage(t, w, 200, "Fiche M1805 – Conception et dessin produits mécaniques et industriels")
	t.Logf("a fiche with 130 appellations, 120 compétences, 60 savoirs: %d bytes", w.Body.Len())
}
