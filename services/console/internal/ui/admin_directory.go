package ui

// What the directory's pages share (the intake's organisations and people, kept by admins):
// the French words for its values, the selects' choices, and how a form reads the intake's
// refusals.

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

var (
	orgKindLabels = map[string]string{
		backend.OrgKindOPCO:          "OPCO",
		backend.OrgKindBranche:       "Branche professionnelle",
		backend.OrgKindInstitution:   "Institution",
		backend.OrgKindFranceTravail: "France Travail",
	}
	orgKindChoices = []choice{
		{backend.OrgKindOPCO, "OPCO"}, {backend.OrgKindBranche, "Branche professionnelle"},
		{backend.OrgKindInstitution, "Institution"}, {backend.OrgKindFranceTravail, "France Travail"},
	}
	// personRoleChoices are the roles a person of the directory may hold.
	personRoleChoices = []choice{
		{string(auth.RolePartner), "Partenaire"}, {string(auth.RoleModerator), "Équipe ROME (modération)"},
		{string(auth.RoleAdmin), "Administration"},
	}
	personSourceLabels = map[string]string{
		"admin": "ajoutée par un administrateur", "import": "importée d'un fichier", "dev_token": "connexion de développement",
		"access_request": "demande d'accès approuvée", "entra_sync": "groupe Entra synchronisé",
	}
	// importColumnLabels name the CSV's columns in the import's report.
	importColumnLabels = map[string]string{
		"sub": "Identifiant (sub)", "name": "Nom (name)", "role": "Rôle (role)", "email": "Adresse e-mail (email)",
		"org": "Organisation (org)", "entraId": "Identifiant Entra (entraId)",
	}
)

// importOutcome words what became, or would become (dryRun), of an import's line.
func importOutcome(dryRun bool, outcome string) string {
	switch {
	case outcome == backend.ImportCreated && dryRun:
		return "Sera ajoutée"
	case outcome == backend.ImportCreated:
		return "Ajoutée"
	case outcome == backend.ImportUnchanged:
		return "Déjà dans l'annuaire, inchangée"
	case outcome == backend.ImportRefused:
		return "Refusée"
	}
	return outcome
}

// conflictAlerts explain the intake's 409s about the directory.
var conflictAlerts = map[string]string{
	"organisation_exists": "Une autre organisation a déjà cet identifiant : rien n'a été enregistré. Choisissez un autre identifiant, ou modifiez l'organisation existante depuis la liste des organisations.",
	"person_exists":       "Une autre personne a déjà cet identifiant : rien n'a été enregistré. Choisissez un autre identifiant, ou modifiez la personne existante depuis la liste des personnes.",
	"entra_id_taken":      "Cet identifiant Entra est déjà celui d'une autre personne de l'annuaire : rien n'a été enregistré.",
	"own_admin_access":    "Vous ne pouvez ni désactiver votre propre compte ni renoncer à votre rôle d'administrateur : il faut qu'un administrateur reste pour annuler ce changement. Demandez-le à un autre administrateur.",
}

// personPath and orgPath are the console's pages of a person and an organisation.
func personPath(sub string) string { return "/administration/personnes/" + url.PathEscape(sub) }
func orgPath(id string) string     { return "/administration/organisations/" + url.PathEscape(id) }

// formRefusal reads the intake's refusal of a directory form: a 422's messages by field, or
// a 409's explanation (with the field it names). ok is false for any other failure, which
// the caller shows as the error page.
func formRefusal(err error, rename func(string) string) (status int, errs fieldErrors, alert string, ok bool) {
	e, isProblem := backend.AsError(err)
	switch {
	case !isProblem:
		return 0, nil, "", false
	case e.Status == http.StatusUnprocessableEntity:
		return e.Status, fromProblem(e, rename), "", true
	case e.Status == http.StatusConflict:
		errs = fieldErrors{}
		for _, f := range e.Errors {
			errs.add(rename(f.Field), frenchMessage(f))
		}
		alert = conflictAlerts[e.Code]
		if alert == "" {
			alert = "L'annuaire a changé entre-temps : rien n'a été enregistré. Vérifiez les informations ci-dessous et recommencez."
		}
		return e.Status, errs, alert, true
	}
	return 0, nil, "", false
}

// orgChoices are the organisations to pick from, by name, an inactive one said so; current
// is kept among them even when the directory no longer lists it.
func orgChoices(orgs []backend.Organisation, current string) []choice {
	out := make([]choice, 0, len(orgs)+1)
	for _, o := range orgs {
		label := orRaw(o.Name, o.ID)
		if !o.Active {
			label += " (désactivée)"
		}
		out = append(out, choice{o.ID, label})
	}
	slices.SortFunc(out, func(a, b choice) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	if current != "" && !slices.ContainsFunc(out, func(c choice) bool { return c.Value == current }) {
		out = append(out, choice{current, current})
	}
	return out
}

// activeParam reads the « Désactiver » / « Réactiver » buttons' value.
func activeParam(c *gin.Context) (bool, bool) {
	switch c.PostForm("actif") {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// domainSeparators split the domains an admin types: spaces, commas, semicolons.
var domainSeparators = regexp.MustCompile(`[\s,;]+`)

// parseDomains reads the domains field: codes separated by spaces, commas or semicolons,
// upper-cased (the intake checks them).
func parseDomains(s string) []string {
	out := []string{}
	for _, d := range domainSeparators.Split(strings.ToUpper(s), -1) {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// domainField maps the intake's "domains[3]" to the form's field.
func domainField(f string) string {
	if strings.HasPrefix(f, "domains[") {
		return "domains"
	}
	return f
}

// badDomains words the intake's refusals of single domains as one message naming them all.
func badDomains(e *backend.Error, domains []string, errs fieldErrors) {
	var bad []string
	for _, f := range e.Errors {
		var i int
		if _, err := fmt.Sscanf(f.Field, "domains[%d]", &i); err == nil && i >= 0 && i < len(domains) {
			bad = append(bad, "« "+domains[i]+" »")
		}
	}
	if len(bad) > 0 {
		errs["domains"] = "Code" + pluralS(len(bad)) + " non reconnu" + pluralS(len(bad)) + " : " + strings.Join(bad, ", ") +
			". Saisissez des grands domaines (une lettre de A à N) ou des codes ROME, par exemple M1805."
	}
}

func pluralS(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}
