package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
)

func TestOrganisationPages(t *testing.T) {
	ui, dir, _ := newAdminUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")

	body := checkPage(t, admin.get("/administration/organisations"), 200, "Organisations")
	mustContain(t, body, `aria-current="page">Administration`, `<caption id="tableau-organisations">Organisations de l&#39;annuaire (2)</caption>`,
		`<a href="/administration/organisations/opco-2i">OPCO 2i</a>`, "<td>OPCO</td>", "Branche professionnelle", "H, M1805", ">Désactivée</p>",
		`href="/administration/organisations/nouvelle">Ajouter une organisation</a>`)

	body = checkPage(t, admin.get("/administration/organisations/nouvelle"), 200, "Nouvelle organisation")
	mustContain(t, body, `action="/administration/organisations/nouvelle"`, `for="org-id">Identifiant`, `for="org-name">Nom`, `for="org-kind">Type`,
		`<option value="">Choisir un type</option>`, `<option value="branche_professionnelle">Branche professionnelle</option>`,
		`for="org-domains">Domaines d&#39;expertise`, `name="csrf"`, "Ajouter l'organisation</button>")

	// Created: the domains as typed, split and upper-cased.
	location(t, admin.post("/administration/organisations/nouvelle", url.Values{"id": {"opco-mobilites"}, "name": {" OPCO Mobilités "},
		"kind": {"opco"}, "domains": {"n, m1805  N4101"}}), "/administration/organisations/opco-mobilites?message=organisation-ajoutee")
	if got := dir.changed("POST /v1/organisations"); len(got) != 1 ||
		got[0] != `{"id":"opco-mobilites","name":"OPCO Mobilités","kind":"opco","domains":["N","M1805","N4101"]}` {
		t.Errorf("created %q", got)
	}
	body = checkPage(t, admin.get("/administration/organisations/opco-mobilites?message=organisation-ajoutee"), 200, "Organisation : OPCO Mobilités")
	mustContain(t, body, "L&#39;organisation est enregistrée dans l&#39;annuaire.", `value="N M1805 N4101"`, `<option value="opco" selected>OPCO</option>`)

	// Refused: each message next to its field, every bad domain named, what was typed kept.
	w := admin.post("/administration/organisations/nouvelle", url.Values{"id": {"OPCO Mobilités"}, "name": {"Mobilités"}, "kind": {""}, "domains": {"Z12 M1805 12"}})
	body = checkPage(t, w, 422, "Nouvelle organisation")
	mustContain(t, body, "Le formulaire n'a pas été enregistré",
		`id="org-id" name="id" type="text" value="OPCO Mobilités" required aria-required="true" aria-invalid="true" aria-describedby="org-id-error"`,
		`id="org-id-error">De 2 à 63 caractères : lettres minuscules sans accent, chiffres ou tirets, par exemple opco-2i.</p>`,
		`id="org-kind-error">Valeur non reconnue`,
		`id="org-domains-error">Codes non reconnus : « Z12 », « 12 ». Saisissez des grands domaines`, `value="Z12 M1805 12"`, `value="Mobilités"`)

	// Another organisation under that id: said so, nothing lost.
	body = checkPage(t, admin.post("/administration/organisations/nouvelle", url.Values{"id": {"opco-2i"}, "name": {"Un autre OPCO"}, "kind": {"opco"}}), 409, "Nouvelle organisation")
	mustContain(t, body, `role="alert"><p>Une autre organisation a déjà cet identifiant`, `id="org-id-error">Cet identifiant est déjà pris.</p>`, `value="Un autre OPCO"`)

	// Changed.
	body = checkPage(t, admin.get("/administration/organisations/opco-2i"), 200, "Organisation : OPCO 2i")
	mustContain(t, body, `action="/administration/organisations/opco-2i"`, `value="H M1805"`, "Enregistrer les modifications</button>",
		`action="/administration/organisations/opco-2i/activation"`, `name="actif" value="false"`, ">Désactiver</button>",
		`href="/administration/personnes?organisation=opco-2i"`)
	mustNotContain(t, body, `id="org-id"`) // an id is for good
	location(t, admin.post("/administration/organisations/opco-2i", url.Values{"name": {"OPCO 2i"}, "kind": {"opco"}, "domains": {"H M1805 M1806"}}),
		"/administration/organisations/opco-2i?message=organisation-modifiee")
	if got := dir.changed("PATCH /v1/organisations/opco-2i"); len(got) != 1 || got[0] != `{"name":"OPCO 2i","kind":"opco","domains":["H","M1805","M1806"]}` {
		t.Errorf("changed %q", got)
	}
	body = checkPage(t, admin.post("/administration/organisations/opco-2i", url.Values{"name": {""}, "kind": {"opco"}, "domains": {"H"}}), 422, "Organisation : OPCO 2i")
	mustContain(t, body, `id="org-name-error">Ce champ est obligatoire.</p>`)

	// Deactivated, then active again.
	location(t, admin.post("/administration/organisations/opco-2i/activation", url.Values{"actif": {"false"}}),
		"/administration/organisations/opco-2i?message=organisation-desactivee")
	body = checkPage(t, admin.get("/administration/organisations/opco-2i?message=organisation-desactivee"), 200, "Organisation : OPCO 2i")
	mustContain(t, body, "L&#39;organisation est désactivée", `name="actif" value="true"`, ">Réactiver</button>")
	location(t, admin.post("/administration/organisations/opco-2i/activation", url.Values{"actif": {"true"}}),
		"/administration/organisations/opco-2i?message=organisation-reactivee")
	if got := dir.changed("PATCH /v1/organisations/opco-2i"); len(got) != 4 || got[2] != `{"active":false}` || got[3] != `{"active":true}` {
		t.Errorf("activation %q", got)
	}

	checkPage(t, admin.get("/administration/organisations/inconnue"), 404, "Page introuvable")
	checkPage(t, admin.post("/administration/organisations/inconnue/activation", url.Values{"actif": {"false"}}), 404, "Page introuvable")
	for _, role := range []auth.Role{auth.RolePartner, auth.RoleModerator} {
		v := ui.as(role, "someone-"+string(role), "opco-2i")
		checkPage(t, v.get("/administration/organisations"), 403, "Accès refusé")
		checkPage(t, v.post("/administration/organisations/opco-2i/activation", url.Values{"actif": {"false"}}), 403, "Accès refusé")
	}
}

func TestPeopleList(t *testing.T) {
	ui, dir, _ := newAdminUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")

	body := checkPage(t, admin.get("/administration/personnes"), 200, "Personnes de l'annuaire")
	mustContain(t, body, `for="filtre-role">Rôle`, `<option value="moderator">Équipe ROME (modération)</option>`,
		`for="filtre-organisation">Organisation`, `<option value="branche-btp">Branche du BTP (désactivée)</option>`,
		`for="filtre-etat">État`, `<option value="desactivees">Désactivées</option>`,
		`<a href="/administration/personnes/mona">Mona Lefèvre</a>`, `href="/administration/personnes/import">Importer un fichier CSV</a>`)
	mustNotContain(t, body, "Personnes suivantes")

	body = checkPage(t, admin.get("/administration/personnes?role=moderator&etat=desactivees"), 200, "Personnes de l'annuaire")
	mustContain(t, body, "Mona Lefèvre", `<option value="moderator" selected>`, `<option value="desactivees" selected>`)
	mustNotContain(t, body, "Alice Martin", "Ada Admin")
	mustContain(t, checkPage(t, admin.get("/administration/personnes?organisation=opco-2i"), 200, "Personnes de l'annuaire"), "Alice Martin")

	// By pages of 50.
	for i := range 60 {
		sub := fmt.Sprintf("p%02d", i)
		dir.people[sub] = map[string]any{"sub": sub, "name": "Personne " + sub, "role": "partner", "org": "opco-2i", "active": true, "orgActive": true}
	}
	body = checkPage(t, admin.get("/administration/personnes?role=partner"), 200, "Personnes de l'annuaire")
	next := regexp.MustCompile(`href="([^"]+)">Personnes suivantes`).FindStringSubmatch(body)
	if next == nil {
		t.Fatalf("no next page:\n%s", excerpt(body))
	}
	page2 := strings.ReplaceAll(next[1], "&amp;", "&")
	if page2 != "/administration/personnes?curseur=p47&role=partner" {
		t.Errorf("next page %s", page2)
	}
	body = checkPage(t, admin.get(page2), 200, "Personnes de l'annuaire")
	mustContain(t, body, "Personnes correspondant aux filtres (suite)", "Personne p59", `href="/administration/personnes?role=partner">Première page</a>`)
	mustNotContain(t, body, "Personne p47<")
	checkPage(t, admin.get("/administration/personnes?curseur=bad"), 400, "Demande incorrecte")

	// Moderators read the list; they change nothing.
	body = checkPage(t, ui.as(auth.RoleModerator, "mo", "").get("/administration/personnes"), 200, "Personnes de l'annuaire")
	mustContain(t, body, "<td>Mona Lefèvre</td>")
	mustNotContain(t, body, `href="/administration/personnes/mona"`, "Ajouter une personne")
	checkPage(t, ui.partner().get("/administration/personnes"), 403, "Accès refusé")
}

func TestPersonPages(t *testing.T) {
	ui, dir, _ := newAdminUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")

	body := checkPage(t, admin.get("/administration/personnes/nouvelle"), 200, "Nouvelle personne")
	mustContain(t, body, `action="/administration/personnes/nouvelle"`, `for="personne-sub">Identifiant`, `for="personne-nom">Nom`,
		`for="personne-email">Adresse e-mail`, `for="personne-role">Rôle`, `for="personne-org">Organisation`, `for="personne-entra">Identifiant Entra`,
		`<option value="">Aucune organisation</option>`, `<option value="opco-2i">OPCO 2i</option>`, "Ajouter la personne</button>")

	form := url.Values{"sub": {"paul"}, "name": {"Paul Durand"}, "email": {"paul@opco.example"}, "role": {"partner"}, "org": {"opco-2i"}, "entraId": {""}}
	location(t, admin.post("/administration/personnes/nouvelle", form), "/administration/personnes/paul?message=personne-ajoutee")
	if got := dir.changed("POST /v1/people"); len(got) != 1 ||
		got[0] != `{"sub":"paul","name":"Paul Durand","email":"paul@opco.example","role":"partner","org":"opco-2i","entraId":""}` {
		t.Errorf("created %q", got)
	}
	body = checkPage(t, admin.get("/administration/personnes/paul?message=personne-ajoutee"), 200, "Personne : Paul Durand")
	mustContain(t, body, "La personne est enregistrée dans l&#39;annuaire", `<a href="/administration/organisations/opco-2i">OPCO 2i</a>`,
		"ajoutée par un administrateur", "jamais connectée", `<option value="opco-2i" selected>OPCO 2i</option>`, ">Désactiver</button>")

	// Refused: each message next to its field, what was typed kept.
	bad := url.Values{"sub": {"paul durand"}, "name": {"Paul"}, "email": {"paul.opco"}, "role": {"partner"}, "org": {""}, "entraId": {"abc"}}
	body = checkPage(t, admin.post("/administration/personnes/nouvelle", bad), 422, "Nouvelle personne")
	mustContain(t, body, `value="paul durand" required aria-required="true" aria-invalid="true" aria-describedby="personne-sub-error"`,
		`id="personne-sub-error">De 1 à 255 caractères sans accent`, `value="paul.opco"`,
		`id="personne-email-error">Saisissez une adresse e-mail, par exemple prenom.nom@exemple.fr.</p>`,
		`id="personne-org-error">Un partenaire appartient à une organisation : choisissez-la.</p>`, `<option value="partner" selected>Partenaire</option>`, `value="abc"`)
	body = checkPage(t, admin.post("/administration/personnes/nouvelle", url.Values{"sub": {"alice"}, "name": {"Alice Autre"}, "role": {"moderator"}}), 409, "Nouvelle personne")
	mustContain(t, body, `role="alert"><p>Une autre personne a déjà cet identifiant`, `id="personne-sub-error">Cet identifiant est déjà pris.</p>`, `value="Alice Autre"`)

	// Changed.
	location(t, admin.post("/administration/personnes/alice", url.Values{"name": {"Alice Martin-Durand"}, "email": {"alice@opco.example"}, "role": {"partner"}, "org": {"opco-2i"}, "entraId": {"0000-aaaa"}}),
		"/administration/personnes/alice?message=personne-modifiee")
	if got := dir.changed("PATCH /v1/people/alice"); len(got) != 1 ||
		got[0] != `{"name":"Alice Martin-Durand","email":"alice@opco.example","role":"partner","org":"opco-2i","entraId":"0000-aaaa","domains":[],"absentUntil":"","delegate":""}` {
		t.Errorf("changed %q", got)
	}
	body = checkPage(t, admin.post("/administration/personnes/alice", url.Values{"name": {"Alice"}, "email": {"alice"}, "role": {"partner"}, "org": {"opco-2i"}}), 422, "Personne : Alice Martin-Durand")
	mustContain(t, body, `id="personne-email-error">`, `value="alice"`)

	// Deactivated: the platform refuses their sign-ins; then active again.
	location(t, admin.post("/administration/personnes/alice/activation", url.Values{"actif": {"false"}}), "/administration/personnes/alice?message=personne-desactivee")
	body = checkPage(t, admin.get("/administration/personnes/alice?message=personne-desactivee"), 200, "Personne : Alice Martin-Durand")
	mustContain(t, body, "La personne est désactivée : la plateforme refuse ses connexions", ">Désactivée</p>", `name="actif" value="true"`, ">Réactiver</button>")
	location(t, admin.post("/administration/personnes/alice/activation", url.Values{"actif": {"true"}}), "/administration/personnes/alice?message=personne-reactivee")
	if got := dir.changed("PATCH /v1/people/alice"); len(got) != 4 || got[2] != `{"active":false}` || got[3] != `{"active":true}` {
		t.Errorf("activation %q", got)
	}

	// An admin keeps their own access: no button on their page, and the intake's 409 explained.
	body = checkPage(t, admin.get("/administration/personnes/ada"), 200, "Personne : Ada Admin")
	mustContain(t, body, "C'est votre propre compte")
	mustNotContain(t, body, ">Désactiver</button>")
	body = checkPage(t, admin.post("/administration/personnes/ada", url.Values{"name": {"Ada"}, "role": {"moderator"}}), 409, "Personne : Ada Admin")
	mustContain(t, body, "Vous ne pouvez ni désactiver votre propre compte ni renoncer à votre rôle d&#39;administrateur",
		`<option value="moderator" selected>`, `value="Ada"`)

	checkPage(t, admin.get("/administration/personnes/inconnu"), 404, "Page introuvable")
	checkPage(t, admin.post("/administration/personnes/inconnu/activation", url.Values{"actif": {"false"}}), 404, "Page introuvable")
	checkPage(t, admin.post("/administration/personnes/alice/activation", url.Values{"actif": {"peut-être"}}), 400, "Demande incorrecte")
	moderator := ui.as(auth.RoleModerator, "mo", "")
	checkPage(t, moderator.get("/administration/personnes/alice"), 403, "Accès refusé")
	checkPage(t, moderator.post("/administration/personnes/alice/activation", url.Values{"actif": {"false"}}), 403, "Accès refusé")
	if got := dir.changed("PATCH /v1/people/alice"); len(got) != 4 {
		t.Errorf("a moderator changed a person: %q", got)
	}
}

// A moderator's domains of expertise, absence and delegate.
func TestPersonExpertiseAndAbsence(t *testing.T) {
	ui, dir, _ := newAdminUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")
	dir.people["mona"]["active"] = true
	dir.people["leo"] = map[string]any{"sub": "leo", "name": "Léo Modérateur", "role": "moderator", "active": true, "orgActive": true, "source": "admin"}

	body := checkPage(t, admin.get("/administration/personnes/nouvelle"), 200, "Nouvelle personne")
	mustContain(t, body, `for="personne-domaines">Domaines d&#39;expertise`)
	mustNotContain(t, body, "Absent jusqu", "Délégué pendant")
	location(t, admin.post("/administration/personnes/nouvelle", url.Values{"sub": {"zoe"}, "name": {"Zoé"}, "role": {"moderator"}, "domains": {"m, n4101"}}),
		"/administration/personnes/zoe?message=personne-ajoutee")
	if got := dir.changed("POST /v1/people"); len(got) != 1 || !strings.HasSuffix(got[0], `"entraId":"","domains":["M","N4101"]}`) {
		t.Errorf("created %q", got)
	}

	body = checkPage(t, admin.get("/administration/personnes/mona"), 200, "Personne : Mona Lefèvre")
	mustContain(t, body, `for="personne-absence">Absent jusqu&#39;au`, `name="absentUntil" type="date" value=""`,
		`for="personne-delegue">Délégué pendant l&#39;absence`, `<option value="">Aucun délégué</option>`,
		`<option value="leo">Léo Modérateur (équipe ROME)</option>`, `<option value="ada">Ada Admin (administration)</option>`)
	mustNotContain(t, body, `<option value="mona">`, `<option value="alice">`)
	form := url.Values{"name": {"Mona Lefèvre"}, "role": {"moderator"}, "domains": {"M N4101"}, "absentUntil": {"2026-12-24"}, "delegate": {"leo"}}
	location(t, admin.post("/administration/personnes/mona", form), "/administration/personnes/mona?message=personne-modifiee")
	if got := dir.changed("PATCH /v1/people/mona"); len(got) != 1 || !strings.HasSuffix(got[0], `"domains":["M","N4101"],"absentUntil":"2026-12-24","delegate":"leo"}`) {
		t.Errorf("changed %q", got)
	}
	// The intake keeps the end of the absence; the form shows its last day again.
	body = checkPage(t, admin.get("/administration/personnes/mona"), 200, "Personne : Mona Lefèvre")
	mustContain(t, body, `value="M N4101"`, `name="absentUntil" type="date" value="2026-12-24"`, `<option value="leo" selected>`)

	form.Set("delegate", "alice")
	form.Set("domains", "M 99")
	body = checkPage(t, admin.post("/administration/personnes/mona", form), 422, "Personne : Mona Lefèvre")
	mustContain(t, body, `id="personne-delegue-error">Choisissez un modérateur ou un administrateur actif.</p>`,
		`id="personne-domaines-error">Code non reconnu : « 99 »`, `value="M 99"`)
}

func TestPeopleImport(t *testing.T) {
	ui, dir, _ := newAdminUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")

	body := checkPage(t, admin.get("/administration/personnes/import"), 200, "Importer des personnes")
	mustContain(t, body, `enctype="multipart/form-data"`, `for="import-fichier-csv">Fichier CSV des personnes`, `type="file"`, "Vérifier le fichier</button>")

	// The dry run: what each line would do; nothing is written.
	file := []byte("sub;name;role;email;org\r\nmona;Mona Lefèvre;moderator;;\r\npaul;Paul Durand;partner;paul@opco.example;opco-2i\r\n")
	body = checkPage(t, admin.postFile("/administration/personnes/import", "fichier", "personnes.csv", file), 200, "Importer des personnes : vérification")
	mustContain(t, body, "Vérification du fichier personnes.csv", "<strong>1 personne</strong> sera ajoutée", "1 est déjà présente",
		`<caption id="tableau-import">Lignes du fichier</caption>`, "<td>3</td>", "<td class=\"console-wrap\">paul</td>", "<td>Sera ajoutée</td>",
		"<td>Déjà dans l&#39;annuaire, inchangée</td>", `action="/administration/personnes/import/confirmation"`,
		`name="contenu" value="`+base64.StdEncoding.EncodeToString(file)+`"`, "Confirmer l'import</button>")
	if _, ok := dir.people["paul"]; ok || len(dir.changed("POST /v1/people:import")) != 1 {
		t.Fatalf("the dry run imported: %q", dir.changed("POST /v1/people:import"))
	}

	// Confirmed: the same file, imported.
	body = checkPage(t, admin.post("/administration/personnes/import/confirmation", url.Values{"contenu": {base64.StdEncoding.EncodeToString(file)}, "nom": {"personnes.csv"}}),
		200, "Importer des personnes : résultat")
	mustContain(t, body, "Import terminé", "1 personne ajoutée à l'annuaire, 1 déjà présente et inchangée (fichier personnes.csv)", "<td>Ajoutée</td>")
	if got := dir.changed("POST /v1/people:import"); len(got) != 2 || got[1] != string(bytes.TrimSpace(file)) {
		t.Errorf("imported %q", got)
	}
	if _, ok := dir.people["paul"]; !ok {
		t.Error("paul was not imported")
	}

	// Refused lines: each with its errors in French; no confirmation offered.
	refused := []byte("sub,name,role\nzoe,,partner\nyann,Yann,chef\nxavier,Xavier,moderator\n")
	body = checkPage(t, admin.postFile("/administration/personnes/import", "fichier", "equipe.csv", refused), 422, "Importer des personnes : vérification")
	mustContain(t, body, "Fichier refusé : equipe.csv", "Rien n'a été importé", `<caption id="tableau-import">Lignes refusées</caption>`,
		"Nom (name) : Ce champ est obligatoire.", "Organisation (org) : Un partenaire appartient à une organisation",
		"Rôle (role) : Valeur non reconnue : les valeurs possibles sont partner, moderator, admin.", "Et 1 autre ligne sans erreur", "Envoyer le fichier corrigé")
	mustNotContain(t, body, "Confirmer l'import", "xavier")

	// A file the intake cannot read, no file, a file too big.
	body = checkPage(t, admin.postFile("/administration/personnes/import", "fichier", "x.csv", []byte("sub,name\nzoe,Zoé\n")), 422, "Importer des personnes")
	mustContain(t, body, `aria-invalid="true" aria-describedby="import-fichier-csv-error"`,
		`id="import-fichier-csv-error">La ligne d&#39;en-tête n&#39;a pas la colonne « role », qui est obligatoire.</p>`)
	mustContain(t, checkPage(t, admin.post("/administration/personnes/import", nil), 422, "Importer des personnes"), "Choisissez le fichier CSV des personnes à importer.")
	mustContain(t, checkPage(t, admin.postFile("/administration/personnes/import", "fichier", "x.csv", bytes.Repeat([]byte("a"), 5<<19)), 422, "Importer des personnes"),
		"Ce fichier pèse 2,5 Mio : 2 Mio au plus.")
	mustContain(t, checkPage(t, admin.postFile("/administration/personnes/import", "fichier", "x.csv", bytes.Repeat([]byte("a"), 4<<20)), 413, "Fichier trop volumineux"),
		"2 Mio au plus")
	checkPage(t, admin.post("/administration/personnes/import/confirmation", url.Values{"contenu": {"pas du base64 !"}}), 400, "Demande incorrecte")
	if got := dir.changed("POST /v1/people:import"); len(got) != 4 {
		t.Errorf("%d calls to the import, want 4", len(got))
	}

	moderator := ui.as(auth.RoleModerator, "mo", "")
	checkPage(t, moderator.get("/administration/personnes/import"), 403, "Accès refusé")
	checkPage(t, moderator.postFile("/administration/personnes/import", "fichier", "p.csv", file), 403, "Accès refusé")
	checkPage(t, moderator.post("/administration/personnes/import/confirmation", url.Values{"contenu": {base64.StdEncoding.EncodeToString(file)}}), 403, "Accès refusé")
}

// The intake's messages about the directory read in French; one the console does not know
// keeps the intake's words.
func TestDirectoryMessagesInFrench(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		"is required (a single-line name of at most 200 characters)":                                   "Ce champ est obligatoire.",
		"must have at most 200 characters (it has 201) (a single-line name of at most 200 characters)": "Ce champ compte au plus 200 caractères (il en a 201).",
		"must be one of partner, moderator, admin":                                                     "Valeur non reconnue : les valeurs possibles sont partner, moderator, admin.",
		"is also on line 3": "Figure aussi à la ligne 3 du fichier.",
		"is not valid UTF-8 (at character 4) (a single-line name of at most 200 characters)": "Ce texte n'est pas en UTF-8 : enregistrez le fichier au format « CSV UTF-8 ».",
		"is in the directory with other values: change them with PATCH /v1/people/{sub}":     "Cette personne est déjà dans l'annuaire avec d'autres informations : modifiez-la depuis sa page.",
		"wants a word the console does not know":                                             "Refusé par la plateforme : wants a word the console does not know",
	} {
		if got := frenchMessage(httpx.FieldError{Field: "name", Message: msg}); got != want {
			t.Errorf("%q → %q, want %q", msg, got, want)
		}
	}
	if got := importFileMessage("The file is empty of sense."); got != "Ce fichier est refusé : The file is empty of sense." {
		t.Errorf("unknown detail → %q", got)
	}
}
