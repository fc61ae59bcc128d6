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
	{regexp.MustCompile(`^is at most (\d+) characters$`), "Ce champ compte au plus $1 caractères."},
	{regexp.MustCompile(`^must be a code ROME such as (\w+)$`), "Saisissez un code ROME : une lettre et quatre chiffres, par exemple $1."},
	{regexp.MustCompile(`^must not be empty$`), "Ce champ ne peut pas être vide."},
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
