// Package releasenotes words a published release for people, in French and Markdown: what
// each request changed in each fiche, and the requests sent back to the ROME team's
// moderators because their change sets no longer applied with the others.
package releasenotes

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
)

// Release is what the notes of a published release say.
type Release struct {
	Number      int
	Version     int // the version it published; 0 when nothing in it applied
	PublishedAt time.Time
	Published   []ChangeSet       // in the order they were staged
	Returned    []Returned        // in the order they were staged
	Fiches      map[string]string // the libellé of each fiche the version changed, as it has it
}

// Request names the request a change set comes from.
type Request struct {
	ID          string
	Title       string
	ChangeSetID string
}

// ChangeSet is a published change set and its changes.
type ChangeSet struct {
	Request
	Changes []refclient.Change
}

// Returned is a change set sent back to its moderators, and why (the reasons of its
// operations that did not apply).
type Returned struct {
	Request
	Reasons []string
}

// Render writes the notes of r.
func Render(r Release) string {
	var b strings.Builder
	published := "Publiée le " + frenchDate(r.PublishedAt) + "."
	if r.Version == 0 {
		fmt.Fprintf(&b, "# Release %d du ROME : aucune version publiée\n\n%s\n\n", r.Number, published)
		b.WriteString("Aucune modification n'a été publiée : aucun lot de modifications de la release ne s'appliquait plus.\n")
	} else {
		fmt.Fprintf(&b, "# Version %d — release %d du ROME\n\n%s\n\n", r.Version, r.Number, published)
		summary := count(requests(r.Published), "demande publiée", "demandes publiées") + ", " +
			count(len(r.Fiches), "fiche modifiée", "fiches modifiées")
		if len(r.Returned) > 0 {
			summary += " ; " + count(requests(r.Returned), "demande renvoyée", "demandes renvoyées") + " aux modérateurs"
		}
		b.WriteString(summary + ".\n")
		writeFiches(&b, r)
	}
	if len(r.Returned) > 0 {
		b.WriteString("\n## Demandes renvoyées aux modérateurs\n\n")
		for _, ret := range r.Returned {
			fmt.Fprintf(&b, "- %s : %s\n", ret.Request.name(), escape(strings.Join(ret.Reasons, " ; ")))
		}
	}
	return b.String()
}

// writeFiches writes a section per fiche, in the order of the codes ROME, with a line per
// change in the order they were published.
func writeFiches(b *strings.Builder, r Release) {
	lines := map[string][]string{}
	for _, cs := range r.Published {
		for _, c := range cs.Changes {
			lines[c.CodeRome] = append(lines[c.CodeRome], fmt.Sprintf("- %s — %s", describe(c), cs.Request.name()))
		}
	}
	codes := make([]string, 0, len(lines))
	for code := range lines {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		fmt.Fprintf(b, "\n## %s — %s\n\n%s\n", code, escape(r.Fiches[code]), strings.Join(lines[code], "\n"))
	}
}

// requests counts the distinct requests behind change sets (one without a request counts
// alone): a request may have had several change sets accepted in a release.
func requests[T interface{ request() Request }](css []T) int {
	seen := map[string]bool{}
	for _, cs := range css {
		r := cs.request()
		key := r.ID
		if key == "" {
			key = "\x00" + r.ChangeSetID
		}
		seen[key] = true
	}
	return len(seen)
}

func (r Request) request() Request { return r }

// name is "demande req-42 « Titre »" (the change set's id when it names no request).
func (r Request) name() string {
	if r.ID == "" {
		return "lot de modifications " + escape(r.ChangeSetID)
	}
	s := "demande " + escape(r.ID)
	if r.Title != "" {
		s += " " + quote(r.Title)
	}
	return s
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// items are the words of the items a fiche carries, and whether the noun is feminine.
var items = map[string]struct {
	noun     string
	feminine bool
}{
	"competence": {"Compétence", true},
	"savoir":     {"Savoir", false},
	"contexte":   {"Contexte de travail", false},
}

// agree gives a past participle the gender of its noun.
func agree(participle string, feminine bool) string {
	if feminine {
		return participle + "e"
	}
	return participle
}

// tags are the names of a fiche's indicators.
var tags = map[string]string{
	"transitionEcologique":    "Transition écologique",
	"transitionNumerique":     "Transition numérique",
	"transitionDemographique": "Transition démographique",
	"emploiReglemente":        "Emploi réglementé",
	"emploiCadre":             "Emploi cadre",
}

// describe words one change, e.g. "Appellation ajoutée : « Développeur Rust » (code OGR 90000001)".
func describe(c refclient.Change) string {
	lib := quote(c.Libelle) + ogr(c.CodeOgr)
	switch c.Entity {
	case "fiche":
		if c.Action == "created" {
			return "Fiche créée : " + lib
		}
		return "Fiche renommée : " + quote(text(c.Before)) + " → " + quote(text(c.After))
	case "appellation":
		switch {
		case c.Action == "added" && text(c.Before) != "":
			return "Appellation reçue de la fiche " + escape(text(c.Before)) + " : " + lib
		case c.Action == "added":
			return "Appellation ajoutée : " + lib
		case c.Action == "moved":
			return "Appellation déplacée vers la fiche " + escape(text(c.After)) + " : " + lib
		case c.Action == "removed" && member(c.After, "replacedBy") != "":
			return "Appellation retirée : " + lib + ", remplacée par l'appellation de code OGR " + escape(member(c.After, "replacedBy"))
		case c.Action == "removed" && member(c.After, "reason") != "":
			return "Appellation retirée : " + lib + ", motif : " + escape(member(c.After, "reason"))
		case c.Action == "removed":
			return "Appellation retirée : " + lib
		case c.Field == "libelleCourt":
			return "Libellé court de l'appellation " + lib + " modifié : " + quote(text(c.Before)) + " → " + quote(text(c.After))
		default:
			return "Appellation renommée : " + quote(text(c.Before)) + " → " + quote(text(c.After)) + ogr(c.CodeOgr)
		}
	case "competence", "savoir", "contexte":
		it := items[c.Entity]
		switch c.Action {
		case "created":
			return it.noun + " " + agree("créé", it.feminine) + " et " + agree("ajouté", it.feminine) + " : " + lib + coeur(member(c.After, "coeurMetier"))
		case "removed":
			return it.noun + " " + agree("retiré", it.feminine) + " : " + lib
		default:
			return it.noun + " " + agree("ajouté", it.feminine) + " : " + lib + coeur(member(c.After, "coeurMetier"))
		}
	case "coeurMetier":
		return "Cœur de métier de " + lib + " : " + coeurValue(text(c.Before)) + " → " + coeurValue(text(c.After))
	case "mobilite":
		target := func(v any) string { return "vers la fiche " + escape(member(v, "codeRome")) + " " + quote(c.Libelle) }
		if c.Action == "removed" {
			return "Mobilité retirée " + target(c.Before)
		}
		return "Mobilité ajoutée " + target(c.After) + " (rang " + escape(member(c.After, "rang")) + ")"
	case "texte":
		if c.Field == refclient.FieldAccesEmploi {
			return "Accès à l'emploi modifié"
		}
		return "Définition modifiée"
	case "tags":
		return "Indicateur « " + tags[c.Field] + " » modifié : " + tagValue(c.Before) + " → " + tagValue(c.After)
	}
	return escape(c.Action + " " + c.Entity) // a kind of change this package does not know yet: said as it is
}

func ogr(code string) string {
	if code == "" {
		return ""
	}
	return " (code OGR " + escape(code) + ")"
}

func coeur(v string) string {
	if v == "" {
		return ""
	}
	return ", cœur de métier " + coeurValue(v)
}

func coeurValue(v string) string {
	switch v {
	case "PRINCIPALE":
		return "principal"
	case "EMERGENTE":
		return "émergent"
	}
	return "aucun"
}

// tagValue words an indicator's value: a flag (yes, no, unknown) or the value of
// transitionEcologique.
func tagValue(v any) string {
	switch v := deref(v).(type) {
	case bool:
		if v {
			return "oui"
		}
		return "non"
	case string:
		if v != "" {
			return escape(v)
		}
	}
	return "non renseigné"
}

// text is a change's before or after as text ("" when it holds none).
func text(v any) string {
	switch v := deref(v).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// member reads a member of a change's before or after: a map as the engine builds it, or
// as it reads back from JSON.
func member(v any, key string) string {
	switch m := v.(type) {
	case map[string]string:
		return m[key]
	case map[string]any:
		if x, ok := m[key]; ok {
			return text(x)
		}
	}
	return ""
}

// deref reads the value behind the engine's pointers (*string, *bool): nil when none.
func deref(v any) any {
	switch p := v.(type) {
	case *string:
		if p == nil {
			return nil
		}
		return *p
	case *bool:
		if p == nil {
			return nil
		}
		return *p
	}
	return v
}

// quote is a libellé in French quotes, escaped.
func quote(s string) string { return "« " + escape(s) + " »" }

// markdown escapes what Markdown would read as markup in text that partners and
// moderators wrote (libellés, titles, reasons), and folds line breaks: each change is one line.
var markdown = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`,
	"#", `\#`, "|", `\|`, "\r\n", " ", "\n", " ")

func escape(s string) string { return markdown.Replace(s) }

var frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
	"novembre", "décembre"}

// paris is the time zone of the ROME team: a release is dated there.
var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC // a system without tzdata dates in UTC rather than failing
	}
	return loc
}()

// frenchDate is "4 décembre 2026" ("1er" for the first of the month).
func frenchDate(t time.Time) string {
	t = t.In(paris)
	day := fmt.Sprint(t.Day())
	if day == "1" {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d", day, frenchMonths[t.Month()-1], t.Year())
}
