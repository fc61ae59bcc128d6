package e2e

// The console's scenarios: partners and moderators doing their work in a real browser, each
// page checked with axe-core as each role, screenshots of the main pages at 1280 and 320 px.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// statusWait bounds how long a request page may take to show the workflow's next status
// (checks, publication).
const statusWait = 60 * time.Second

// requestID is the id of the request whose page the browser shows.
func (b *browser) requestID() string {
	b.t.Helper()
	path, _, _ := strings.Cut(b.path(), "?")
	id, ok := strings.CutPrefix(path, "/demandes/")
	if !ok || id == "" || strings.Contains(id, "/") {
		b.fatalf("not on a request page")
	}
	return id
}

// waitRequestStatus reloads the request page until it shows the status label (console.md).
func (b *browser) waitRequestStatus(label string) {
	b.t.Helper()
	path := "/demandes/" + b.requestID()
	deadline := time.Now().Add(statusWait)
	for {
		if got := b.text(".console-status"); got == label {
			return
		} else if time.Now().After(deadline) {
			b.fatalf("the request's status is %q after %s, want %q", got, statusWait, label)
		}
		time.Sleep(500 * time.Millisecond)
		b.visit(path)
	}
}

// maxPageHTML is the bound of a page's HTML (console.md).
const maxPageHTML = 60 << 10

// wantSmallHTML checks that the page's HTML, as the console sends it, is within the bound.
func (b *browser) wantSmallHTML() {
	b.t.Helper()
	size := eval[int](b, "measure the page's HTML", `(() => {
		const x = new XMLHttpRequest(); x.open('GET', location.href, false); x.send();
		return new Blob([x.responseText]).size })()`)
	if size > maxPageHTML || size == 0 {
		b.errorf("the page's HTML is %d bytes, want at most %d", size, maxPageHTML)
	}
}

// operation is the selector of the request page's block of operation n (from 1).
func operation(n int) string { return fmt.Sprintf(".console-ops > li:nth-child(%d)", n) }

// testConsolePartnerAndModerator is the two paths of console.md's tests: a partner files a
// modify_fiche request with an added appellation and a mobilité, a moderator takes it and
// asks a question, the partner answers, the moderator accepts one operation and rejects the
// other, and both see the version it was published in.
func testConsolePartnerAndModerator(t *testing.T, p *platform) {
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	appellation := "Développeur / Développeuse Zig " + suffix
	partner := newBrowser(t, p, 1280)
	partner.signIn("claire-"+suffix, "Claire Dubois", "partner", "opco-console")
	partner.wantPageBasics()
	partner.checkAxe("partenaire : tableau de bord")
	partner.screenshot("tableau-de-bord-partenaire")

	partner.visit("/demandes/nouvelle")
	partner.wantPageBasics()
	partner.checkAxe("partenaire : nouvelle demande")
	partner.choose("Modifier une fiche")
	partner.fillByLabel("Code ROME", "M1805")
	partner.fillByLabel("Titre", "Développeur Zig "+suffix)
	partner.fillByLabel("Justification", "Offres 2026 : le langage Zig apparaît dans 120 annonces par mois.")
	partner.clickButton("Ajouter une appellation")
	partner.fillByLabel("Libellé de l'appellation", appellation)
	partner.clickButton("Ajouter une mobilité")
	partner.fillByLabel("Fiche cible (code ROME)", "M1801")
	partner.fillByLabel("Rang", "1")
	partner.clickButton("Prévisualiser")
	partner.waitText(appellation)
	partner.checkAxe("partenaire : nouvelle demande avec aperçu")
	partner.screenshot("formulaire-de-demande")
	partner.clickButton("Soumettre la demande")
	id := partner.requestID()
	partner.waitRequestStatus("À prendre en charge")
	partner.checkAxe("partenaire : page de la demande")
	partner.screenshot("page-de-la-demande-partenaire")

	moderator := newBrowser(t, p, 1280)
	moderator.signIn("mod-"+suffix, "Bruno Leroy", "moderator", "")
	moderator.checkAxe("modérateur : tableau de bord")
	moderator.visit("/moderation")
	moderator.wantPageBasics()
	moderator.waitText("Développeur Zig " + suffix)
	moderator.checkAxe("modérateur : file de modération")
	moderator.screenshot("file-de-moderation")
	moderator.clickLink("Développeur Zig " + suffix)
	if got := moderator.requestID(); got != id {
		t.Fatalf("the queue's link opened request %s, want %s", got, id)
	}
	moderator.clickButton("Prendre en charge")
	moderator.waitRequestStatus("En instruction")
	moderator.fillByLabel("Question", "Quelles sources pour ces 120 annonces ?")
	moderator.clickButton("Poser la question")
	moderator.waitRequestStatus("En attente du partenaire")

	partner.visit("/demandes/" + id)
	partner.waitText("Quelles sources pour ces 120 annonces ?")
	partner.fillByLabel("Réponse", "Les offres publiées sur francetravail.fr entre janvier et octobre 2026.")
	partner.clickButton("Répondre")
	partner.waitRequestStatus("En instruction")

	moderator.visit("/demandes/" + id)
	moderator.waitText("Les offres publiées sur francetravail.fr")
	moderator.checkAxe("modérateur : page de la demande à décider")
	moderator.screenshot("page-de-la-demande-moderateur")
	moderator.choose("Accepter", operation(1))
	moderator.choose("Refuser", operation(2))
	moderator.fillByLabel("Motif", "La mobilité vers M1801 existe déjà sous une autre forme.", operation(2))
	moderator.clickButton("Enregistrer la décision")
	moderator.waitRequestStatus("Publiée")
	version := moderator.text("#apercu strong")
	if !strings.HasPrefix(version, "version ") {
		t.Fatalf("the published request names %q, want its version", version)
	}
	moderator.checkAxe("modérateur : demande publiée")

	partner.visit("/demandes/" + id)
	partner.waitRequestStatus("Publiée")
	partner.waitText(version)
	partner.clickLink("Voir la fiche M1805 dans la " + version)
	partner.waitText(appellation)
	partner.checkAxe("partenaire : fiche publiée")

	// The main pages at 320 px, as each role.
	smallPartner := newBrowser(t, p, 320)
	smallPartner.signIn("claire-"+suffix, "Claire Dubois", "partner", "opco-console")
	smallModerator := newBrowser(t, p, 320)
	smallModerator.signIn("mod-"+suffix, "Bruno Leroy", "moderator", "")
	for _, pg := range []struct {
		b          *browser
		path, name string
	}{
		{smallPartner, "/", "tableau-de-bord-partenaire"}, {smallPartner, "/demandes/nouvelle", "formulaire-de-demande"},
		{smallPartner, "/demandes/" + id, "page-de-la-demande-partenaire"},
		{smallModerator, "/moderation", "file-de-moderation"}, {smallModerator, "/demandes/" + id, "page-de-la-demande-moderateur"},
	} {
		pg.b.visit(pg.path)
		pg.b.wantStatus(http.StatusOK)
		pg.b.checkAxe(pg.name + " (320 px)")
		pg.b.screenshot(pg.name)
	}
}

// testConsoleOtherOrganisation: a partner of another organisation gets the console's 404
// page for a request, exactly as the intake answers it, and cannot act on it.
func testConsoleOtherOrganisation(t *testing.T, p *platform) {
	who := cast(t, p, "console-404")
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "K2111", "title": "Formateur IA", "justification": "Besoins 2026.",
		"operations": []map[string]any{{"op": "add_appellation", "libelle": "Formateur / Formatrice en IA générative"}},
	})
	outsider := newBrowser(t, p, 1280)
	outsider.signIn("outsider-console-404", "Olivier Autre", "partner", "other-console-404")
	outsider.visit("/demandes/" + r.ID)
	if h1 := outsider.wantStatusPage(http.StatusNotFound); h1 != "Page introuvable" {
		t.Errorf("the 404 page's heading is %q", h1)
	}
	outsider.checkAxe("partenaire d'une autre organisation : 404")
	outsider.visit("/demandes")
	if strings.Contains(outsider.pageText(), "Formateur IA") {
		t.Error("the other organisation's request is listed")
	}
}

// testConsoleWithdrawal: a partner withdraws their request from its page.
func testConsoleWithdrawal(t *testing.T, p *platform) {
	who := cast(t, p, "console-withdraw")
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "K2111", "title": "Retrait console", "justification": "Essai.",
		"operations": []map[string]any{{"op": "add_appellation", "libelle": "Formateur / Formatrice console"}},
	})
	waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", statusWait)
	b := newBrowser(t, p, 320)
	b.signIn("partner-console-withdraw", "Paul Retrait", "partner", who.org)
	b.visit("/demandes/" + r.ID)
	b.clickButton("Retirer la demande")
	if b.status() != http.StatusUnprocessableEntity || b.text("#motif-retrait-error") == "" {
		t.Fatalf("withdrawing without a reason: HTTP %d, error %q", b.status(), b.text("#motif-retrait-error"))
	}
	b.checkAxe("partenaire : retrait sans motif (422)")
	b.fillByLabel("Motif du retrait", "Doublon d'une autre demande.")
	b.clickButton("Retirer la demande")
	b.waitRequestStatus("Retirée")
	b.checkAxe("partenaire : demande retirée (320 px)")
	b.screenshot("demande-retiree")
	if got := getRequest(t, p, who.partner, r.ID).Status; got != "WITHDRAWN" {
		t.Fatalf("the intake says %s", got)
	}
}

// testConsoleAdminPages: every page an admin can open passes axe-core.
func testConsoleAdminPages(t *testing.T, p *platform) {
	for _, width := range []int{1280, 320} {
		b := newBrowser(t, p, width)
		b.signIn("admin-console", "Agnès Admin", "admin", "")
		for _, page := range []struct{ path, name string }{
			{"/", "accueil"}, {"/demandes", "demandes"}, {"/moderation", "moderation"},
			{"/referentiel?q=boulanger", "referentiel"}, {"/referentiel/fiches/M1805", "fiche"},
			{"/referentiel/fiches/H1206", "fiche-la-plus-longue"},
			{"/referentiel/fiches/M1805/historique", "historique-de-fiche"},
			{"/referentiel/fiches/M1805/comparaison", "comparaison-de-versions"},
			{"/notifications", "notifications"}, {"/administration", "administration"},
			{"/referentiel/releases", "releases"},
			{"/administration/organisations", "organisations"}, {"/administration/personnes", "personnes"},
			{"/administration/organisations/nouvelle", "nouvelle-organisation"},
			{"/administration/personnes/nouvelle", "nouvelle-personne"},
			{"/administration/personnes/import", "import-de-personnes"},
		} {
			b.visit(page.path)
			b.wantStatus(http.StatusOK)
			b.wantPageBasics()
			b.wantSmallHTML()
			b.checkAxe("admin : " + page.name)
			b.screenshot("admin-" + page.name)
		}
		b.keepDirectory(fmt.Sprintf("%d-%d", width, time.Now().UnixNano()%1e9))
	}
}

// keepDirectory: an admin adds an organisation and a partner of it (after a mistake the
// form points out), deactivates the partner, and imports people from a CSV file, checking
// the dry run before confirming it.
func (b *browser) keepDirectory(suffix string) {
	b.t.Helper()
	org, orgName, sub := "opco-e2e-"+suffix, "OPCO e2e "+suffix, "paul-"+suffix
	b.visit("/administration/organisations/nouvelle")
	b.fillByLabel("Identifiant", org)
	b.fillByLabel("Nom", orgName)
	b.selectByLabel("Type", "OPCO")
	b.fillByLabel("Domaines d'expertise", "n, M1805")
	b.clickButton("Ajouter l'organisation")
	b.wantStatus(http.StatusOK)
	if b.path() != "/administration/organisations/"+org+"?message=organisation-ajoutee" {
		b.fatalf("after adding the organisation, the browser is on %s", b.path())
	}
	b.waitText("L'organisation est enregistrée dans l'annuaire.")
	if got := eval[string](b, "read the domains", `document.querySelector('input[name="domains"]').value`); got != "M1805 N" {
		b.errorf("the organisation's domains are %q, want \"M1805 N\"", got)
	}
	b.wantPageBasics()
	b.checkAxe("admin : organisation")
	b.screenshot("admin-organisation")

	b.visit("/administration/personnes/nouvelle")
	b.fillByLabel("Identifiant", sub)
	b.fillByLabel("Nom", "Paul Durand")
	b.fillByLabel("Adresse e-mail", "paul.sans.arobase")
	b.selectByLabel("Rôle", "Partenaire")
	b.selectByLabel("Organisation", orgName)
	b.clickButton("Ajouter la personne")
	b.wantStatus(http.StatusUnprocessableEntity)
	b.waitText("Saisissez une adresse e-mail")
	if n := b.count(`[aria-invalid="true"]`); n != 1 {
		b.errorf("%d fields are marked invalid, want the e-mail address alone", n)
	}
	if got := eval[string](b, "read the name", `document.querySelector('input[name="name"]').value`); got != "Paul Durand" {
		b.errorf("the name typed became %q", got)
	}
	b.wantPageBasics()
	b.checkAxe("admin : nouvelle personne, avec une erreur (422)")
	b.screenshot("admin-personne-erreur")
	b.fillByLabel("Adresse e-mail", "paul@opco-e2e.example")
	b.clickButton("Ajouter la personne")
	b.wantStatus(http.StatusOK)
	b.waitText("La personne est enregistrée dans l'annuaire")
	b.waitText(orgName)

	b.clickButton("Désactiver")
	b.wantStatus(http.StatusOK)
	b.waitText("La personne est désactivée")
	b.wantButton("Réactiver")
	b.wantPageBasics()
	b.checkAxe("admin : personne désactivée")
	b.screenshot("admin-personne-desactivee")

	csv := filepath.Join(b.t.TempDir(), "personnes-"+suffix+".csv")
	content := "sub;name;role;email;org\n" + sub + ";Paul Durand;partner;paul@opco-e2e.example;" + org + "\n" +
		"lea-" + suffix + ";Léa Import;partner;lea@opco-e2e.example;" + org + "\n"
	if err := os.WriteFile(csv, []byte(content), 0o600); err != nil {
		b.t.Fatal(err)
	}
	b.visit("/administration/personnes/import")
	b.uploadByLabel("Fichier CSV des personnes", csv)
	b.clickButton("Vérifier le fichier")
	b.wantStatus(http.StatusOK)
	b.waitText("Rien n'a encore été enregistré")
	b.waitText("Sera ajoutée")
	b.waitText("Déjà dans l'annuaire, inchangée")
	b.wantPageBasics()
	b.checkAxe("admin : import, vérification")
	b.screenshot("admin-import-verification")
	b.clickButton("Confirmer l'import")
	b.wantStatus(http.StatusOK)
	b.waitText("Import terminé")
	b.waitText("1 personne ajoutée")
	b.checkAxe("admin : import, résultat")

	b.visit("/administration/personnes?organisation=" + org)
	b.waitText("Léa Import")
	row := eval[string](b, "read "+sub+"'s row", fmt.Sprintf(`[...document.querySelectorAll('tbody tr')].find(r => r.innerText.includes(%s))?.textContent.replace(/\s+/g, " ") ?? ""`, jsString(sub)))
	if !strings.Contains(row, "Désactivée") {
		b.errorf("the list shows %s as %q, want Désactivée", sub, row)
	}
	b.checkAxe("admin : personnes d'une organisation")
	b.screenshot("admin-personnes-organisation")
}

// testConsoleCreateFicheFromNewAppellation: a partner proposes a new fiche from an
// appellation the ROME does not know; the request is checked and waits for a moderator.
func testConsoleCreateFicheFromNewAppellation(t *testing.T, p *platform) {
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	b := newBrowser(t, p, 320)
	b.signIn("nadia-"+suffix, "Nadia Benali", "partner", "opco-atlas")
	b.visit("/demandes/nouvelle")
	b.choose("Créer une fiche depuis une nouvelle appellation")
	b.fillByLabel("Titre", "Opérateur de recyclage de batteries "+suffix)
	b.fillByLabel("Justification", "Filière en forte croissance : 40 sites ouverts en 2026.")
	b.fillByLabel("Libellé de la nouvelle appellation principale", "Opérateur / Opératrice de recyclage de batteries "+suffix)
	b.fillByLabel("Domaine professionnel", "H25")
	b.fillByLabel("Définition du métier", "Démonte, trie et prépare les batteries usagées en vue de leur recyclage.")
	b.fillByLabel("Accès à l'emploi", "Accessible avec un CAP ou un Bac professionnel dans les métiers de l'industrie.")
	b.clickButton("Prévisualiser")
	b.checkAxe("partenaire : création de fiche, aperçu (320 px)")
	b.screenshot("creation-de-fiche")
	b.clickButton("Soumettre la demande")
	b.waitRequestStatus("À prendre en charge")
	b.waitText("Créer une fiche depuis une nouvelle appellation")
	b.waitText("Opérateur / Opératrice de recyclage de batteries " + suffix)
	b.checkAxe("partenaire : demande de création de fiche")
}

// testConsoleFormErrors: a form sent with mistakes comes back with each message next to
// its field (422) and everything typed kept.
func testConsoleFormErrors(t *testing.T, p *platform) {
	b := newBrowser(t, p, 1280)
	b.signIn("erreurs-console", "Eric Erreur", "partner", "opco-console")
	b.visit("/demandes/nouvelle")
	b.choose("Modifier une fiche")
	b.fillByLabel("Code ROME", "Z9999")
	b.fillByLabel("Justification", "Une justification qui doit rester.")
	b.clickButton("Ajouter une appellation")
	b.clickButton("Soumettre la demande")
	// The answer is a 422 (the unit tests check it); htmx swapped it into the page.
	b.waitText("à corriger avant de soumettre la demande")
	text := b.pageText()
	for _, want := range []string{"Titre", "Libellé de l'appellation", "Code ROME"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page names no error about %q", want)
		}
	}
	if n := b.count(`[aria-invalid="true"]`); n < 3 {
		t.Errorf("%d fields are marked invalid, want the title, the code ROME and the label at least", n)
	}
	if got := eval[string](b, "read the justification", `document.querySelector('textarea[name="justification"]').value`); got != "Une justification qui doit rester." {
		t.Errorf("the justification typed became %q", got)
	}
	b.checkAxe("partenaire : formulaire avec erreurs (422)")
	b.screenshot("formulaire-avec-erreurs")
}

// testConsoleKeyboardSubmission: a partner signs in and files a request with the keyboard
// alone: Tab to move, Space and Enter to act, and typing into fields.
func testConsoleKeyboardSubmission(t *testing.T, p *platform) {
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	b := newBrowser(t, p, 1280)
	b.visit("/connexion")
	b.tabTo("Identifiant", 20)
	b.typeText("clavier-" + suffix)
	b.tabTo("Nom", 5)
	b.typeText("Karim Clavier")
	b.tabTo("Organisation", 5)
	b.typeText("opco-clavier")
	b.tabTo("Se connecter", 5)
	b.pressEnter()
	if b.path() != "/" {
		t.Fatalf("signed in with the keyboard, the browser is on %s", b.path())
	}

	b.visit("/demandes/nouvelle")
	b.tabTo("Modifier une fiche", 60)
	b.pressSpace()
	b.tabTo("Code ROME", 10)
	b.typeText("M1805")
	b.tabTo("Titre", 20)
	b.typeText("Clavier " + suffix)
	b.tabTo("Justification", 5)
	b.typeText("Saisie au clavier seul.")
	b.tabTo("Ajouter une appellation", 60)
	b.pressEnter()
	if got := b.focusedName(); got != "Libellé de l'appellation" {
		b.tabTo("Libellé de l'appellation", 60)
	}
	b.typeText("Testeur / Testeuse d'accessibilité " + suffix)
	b.tabTo("Soumettre la demande", 200)
	b.pressEnter()
	b.waitRequestStatus("À prendre en charge")
	b.waitText("Testeur / Testeuse d'accessibilité " + suffix)
}
