package ui

import (
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// fieldErrors are the messages shown next to a form's fields, by field name.
type fieldErrors map[string]string

// For is the message of a field, empty when it has none.
func (e fieldErrors) For(field string) string { return e[field] }

// Any tells whether some field has an error.
func (e fieldErrors) Any() bool { return len(e) > 0 }

// add keeps the first message of each field.
func (e fieldErrors) add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// fromProblem turns a service's 422 into messages by form field: rename maps the
// service's field paths (e.g. "operations[0].libelle") to the form's names; a field the
// form does not show goes to "" (the form's summary).
func fromProblem(e *backend.Error, rename func(string) string) fieldErrors {
	errs := fieldErrors{}
	for _, f := range e.Errors {
		errs.add(rename(f.Field), frenchMessage(f))
	}
	if len(errs) == 0 {
		errs.add("", "La plateforme a refusé ces données : "+e.Detail)
	}
	return errs
}

// frenchMessage words a service's field error in French where its message is a common
// one, and keeps the service's words otherwise (they name the rule precisely).
func frenchMessage(f httpx.FieldError) string {
	msg := strings.TrimSpace(f.Message)
	for _, t := range messageTranslations {
		if t.pattern.MatchString(msg) {
			return t.pattern.ReplaceAllString(msg, t.french)
		}
	}
	return "Refusé par la plateforme : " + msg
}

var messageTranslations = []struct {
	pattern *regexp.Regexp
	french  string
}{
	{regexp.MustCompile(`^(is )?required$`), "Ce champ est obligatoire."},
	{regexp.MustCompile(`^must be a date such as [0-9-]+$`), "Saisissez une date, par exemple 2026-01-31."},
	{regexp.MustCompile(`^must not be before from$`), "La fin de la période ne peut précéder son début."},
	{regexp.MustCompile(`^must be at most ten years before to$`), "La période compte au plus dix ans."},
	{regexp.MustCompile(`^must be month, quarter or year$`), "Choisissez le mois, le trimestre ou l'année."},
	{regexp.MustCompile(`^is at most (\d+) characters$`), "Ce champ compte au plus $1 caractères."},
	{regexp.MustCompile(`^must be a code ROME such as (\w+)$`), "Saisissez un code ROME : une lettre et quatre chiffres, par exemple $1."},
	{regexp.MustCompile(`^must not be empty$`), "Ce champ ne peut pas être vide."},
	// Texts (platform/textrule) and the directory's fields.
	{regexp.MustCompile(`^is required \(.*\)$`), "Ce champ est obligatoire."},
	{regexp.MustCompile(`^must have at most (\d+) characters \(it has (\d+)\).*$`), "Ce champ compte au plus $1 caractères (il en a $2)."},
	{regexp.MustCompile(`^is not valid UTF-8.*$`), "Ce texte n'est pas en UTF-8 : enregistrez le fichier au format « CSV UTF-8 »."},
	{regexp.MustCompile(`^must be one of (.+)$`), "Valeur non reconnue : les valeurs possibles sont $1."},
	{regexp.MustCompile(`^must be 2 to 63 lower-case letters, digits or hyphens, such as ([\w-]+)$`), "De 2 à 63 caractères : lettres minuscules sans accent, chiffres ou tirets, par exemple $1."},
	{regexp.MustCompile(`^must be a grand domaine \(a letter A to N\) or a code ROME such as (\w+)$`), "Saisissez un grand domaine (une lettre de A à N) ou un code ROME, par exemple $1."},
	{regexp.MustCompile(`^must hold at most (\d+) domains$`), "Saisissez au plus $1 domaines."},
	{regexp.MustCompile(`^must be 1 to 255 printable ASCII characters, without space or slash.*$`), "De 1 à 255 caractères sans accent, sans espace ni barre oblique : l'identifiant (« sub ») que porte le jeton de connexion."},
	{regexp.MustCompile(`^must be an e-mail address such as .+$`), "Saisissez une adresse e-mail, par exemple prenom.nom@exemple.fr."},
	// Access requests.
	{regexp.MustCompile(`^must be a professional e-mail address such as .+$`), "Saisissez votre adresse électronique professionnelle, par exemple prenom.nom@organisation.fr."},
	{regexp.MustCompile(`^must name at least one grand domaine .*$`), "Cochez au moins un grand domaine, ou saisissez au moins un code ROME."},
	{regexp.MustCompile(`^must name at most (\d+) domains$`), "Indiquez au plus $1 domaines."},
	{regexp.MustCompile(`^names no active organisation of the directory \(create it first\)$`), "Choisissez une organisation active de l'annuaire, ou ajoutez-la d'abord."},
	{regexp.MustCompile(`^must be an Entra object id.*$`), "Saisissez l'identifiant d'objet Entra : lettres, chiffres et tirets, 64 caractères au plus."},
	{regexp.MustCompile(`^is required for the partner role$`), "Un partenaire appartient à une organisation : choisissez-la."},
	{regexp.MustCompile(`^names no organisation of the directory.*$`), "Aucune organisation de l'annuaire n'a cet identifiant : ajoutez-la d'abord."},
	{regexp.MustCompile(`^cannot be checked right now$`), "Vérification impossible pour le moment : réessayez dans un instant."},
	{regexp.MustCompile(`^must be a code OGR \(digits\) such as (\d+)$`), "Saisissez un code OGR : des chiffres, par exemple $1."},
	{regexp.MustCompile(`^names no active organisation of the directory$`), "Cette organisation n'est pas active dans l'annuaire : choisissez-en une autre."},
	{regexp.MustCompile(`^has no domain covering (\w+) \(its domains: (.*)\)$`), "L'organisation n'a aucun domaine qui couvre $1 (ses domaines : $2)."},
	{regexp.MustCompile(`^must be a date such as .+, or empty$`), "Saisissez une date, par exemple 24/12/2026, ou laissez vide."},
	{regexp.MustCompile(`^must be someone else$`), "Choisissez une autre personne que celle-ci."},
	{regexp.MustCompile(`^must be an active moderator or admin$`), "Choisissez un modérateur ou un administrateur actif."},
	{regexp.MustCompile(`^is taken$`), "Cet identifiant est déjà pris."},
	{regexp.MustCompile(`^belongs to another person$`), "Cet identifiant Entra est déjà celui d'une autre personne."},
	{regexp.MustCompile(`^is also on line (\d+)$`), "Figure aussi à la ligne $1 du fichier."},
	{regexp.MustCompile(`^is in the directory with other values.*$`), "Cette personne est déjà dans l'annuaire avec d'autres informations : modifiez-la depuis sa page."},
}

// newFormKey is the idempotency key a form carries: sending the same form twice (a double
// click, a reload after a timeout) acts once.
func newFormKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "console-" + base64.RawURLEncoding.EncodeToString(b)
}

// formKey is the form's idempotency key, or a fresh one for a form sent without it (a
// script): the platform then cannot recognise its repetition, as for any client.
func formKey(sent string) string {
	if len(sent) >= 16 && len(sent) <= 100 && strings.HasPrefix(sent, "console-") {
		return sent
	}
	return newFormKey()
}
