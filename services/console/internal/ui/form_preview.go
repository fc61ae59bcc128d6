package ui

// The preview of a request's operations: the referential's dry run (previewForm) and its
// wording (validationView).

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// previewForm dry-runs the operations on the referential's current version.
func (h *handlers) previewForm(ctx context.Context, f *requestForm) *validationView {
	switch {
	case f.Kind == "":
		return &validationView{Message: "Choisissez le type de demande pour voir l'aperçu."}
	case f.Kind == request.KindModifyFiche && !request.CodeRomePattern.MatchString(f.CodeRome):
		return &validationView{Message: "Saisissez le code ROME de la fiche à modifier pour voir l'aperçu."}
	case !f.creates() && len(f.Ops) == 0:
		return &validationView{Message: "Ajoutez au moins une opération pour voir l'aperçu."}
	}
	cs := refclient.ChangeSet{Operations: f.operations()}
	if !f.creates() {
		cs.CodeRome = f.CodeRome
	}
	v, err := h.Backend.Referential.Validate(ctx, cs)
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusUnprocessableEntity {
		return &validationView{Message: "Complétez le formulaire pour voir l'aperçu (le référentiel ne peut pas encore vérifier ces opérations)."}
	}
	if err != nil {
		slog.WarnContext(ctx, "request form not previewed", "error", err)
		return &validationView{Err: "Le référentiel ne répond pas : l'aperçu n'est pas disponible pour le moment. " +
			"Vous pouvez tout de même soumettre la demande : elle sera vérifiée à sa réception."}
	}
	titles := make([]string, len(v.Results))
	for i := range titles {
		switch {
		case f.creates() && i == 0:
			titles[i] = "Création de la fiche"
		case f.creates() && i-1 < len(f.Ops):
			titles[i] = fmt.Sprintf("Opération %d : %s", i, opLabels[f.Ops[i-1].Op])
		case !f.creates() && i < len(f.Ops):
			titles[i] = fmt.Sprintf("Opération %d : %s", i+1, opLabels[f.Ops[i].Op])
		default:
			titles[i] = "Opération " + v.Results[i].OperationID
		}
	}
	return newValidationView(v, titles)
}

// validationView words the referential's dry run of operations (request form, request page).
type validationView struct {
	Message string // why there is no preview yet
	Err     string // the referential failed
	Version int
	Applies bool
	Status  string // the verdict in one sentence
	Results []resultLine
	Changes []changeLine
	After   *ficheAfter
	raw     *refclient.Validation
}

type resultLine struct {
	Title   string
	Applies bool
	Text    string
}

// changeLine is one line of the semantic diff, in ROME terms.
type changeLine struct {
	Action, Entity, Label, Code, Detail, CodeRome string
}

// ficheAfter is what the preview shows of the fiche after the operations.
type ficheAfter struct {
	CodeRome, Libelle, Domaine string
	Appellations               []string
	MoreAppellations           int
	Elements                   string // "12 compétences, 3 savoirs…"
	Mobilites                  []string
	MoreMobilites              int
	Tags                       []string
	Definition                 string
}

// newValidationView words a dry run; titles name each operation's result.
func newValidationView(v *refclient.Validation, titles []string) *validationView {
	vv := &validationView{Version: v.Version, Applies: v.Applies, raw: v}
	failing := 0
	for i, r := range v.Results {
		title := "Opération " + r.OperationID
		if i < len(titles) {
			title = titles[i]
		}
		vv.Results = append(vv.Results, resultLine{Title: title, Applies: r.Applies, Text: refusalText(r)})
		if !r.Applies {
			failing++
		}
	}
	switch {
	case failing == 0:
		vv.Status = fmt.Sprintf("Aperçu à jour : les %s s'appliquent à la version %d du référentiel.", reqCount(len(v.Results), "opération"), v.Version)
		if len(v.Results) == 1 {
			vv.Status = fmt.Sprintf("Aperçu à jour : l'opération s'applique à la version %d du référentiel.", v.Version)
		}
	case failing == 1:
		vv.Status = fmt.Sprintf("Aperçu à jour : 1 opération sur %d ne s'applique pas à la version %d du référentiel.", len(v.Results), v.Version)
	default:
		vv.Status = fmt.Sprintf("Aperçu à jour : %d opérations sur %d ne s'appliquent pas à la version %d du référentiel.", failing, len(v.Results), v.Version)
	}
	for _, ch := range v.Diff {
		vv.Changes = append(vv.Changes, wordChange(ch))
	}
	if len(v.Preview) > 0 && string(v.Preview) != "null" {
		var f backend.Fiche
		if err := json.Unmarshal(v.Preview, &f); err == nil && f.CodeRome != "" {
			vv.After = newFicheAfter(&f)
		}
	}
	return vv
}

func newFicheAfter(f *backend.Fiche) *ficheAfter {
	a := &ficheAfter{CodeRome: f.CodeRome, Libelle: f.Libelle, Domaine: f.DomaineProfessionnel.Libelle, Definition: truncate(300, f.Definition)}
	for i, ap := range f.Appellations {
		if i == 30 {
			a.MoreAppellations = len(f.Appellations) - i
			break
		}
		label := ap.Libelle
		if ap.Classification == "PRINCIPALE" {
			label += " (principale)"
		}
		a.Appellations = append(a.Appellations, label)
	}
	comp, sav, ctx := 0, 0, 0
	for _, m := range append(append([]backend.MacroCompetence{}, f.Competences.SavoirFaire...), f.Competences.SavoirEtreProfessionnels...) {
		comp += len(m.Competences)
	}
	for _, s := range f.Savoirs {
		sav += len(s.Savoirs)
	}
	for _, t := range f.ContextesTravail {
		ctx += len(t.Contextes)
	}
	a.Elements = fmt.Sprintf("%s, %s, %s", reqCount(comp, "compétence"), reqCount(sav, "savoir"), reqCount(ctx, "contexte de travail"))
	for i, m := range f.Mobilites {
		if i == 15 {
			a.MoreMobilites = len(f.Mobilites) - i
			break
		}
		a.Mobilites = append(a.Mobilites, fmt.Sprintf("%d. %s – %s", m.Rang, m.CodeRome, m.Libelle))
	}
	t := f.Tags
	a.Tags = append(a.Tags, "Transition écologique : "+orRaw(t.TransitionEcologique, "non renseignée"))
	for _, fl := range []struct {
		label string
		v     *bool
	}{{"Transition numérique", t.TransitionNumerique}, {"Transition démographique", t.TransitionDemographique},
		{"Emploi réglementé", t.EmploiReglemente}, {"Emploi cadre", t.EmploiCadre}} {
		a.Tags = append(a.Tags, fl.label+" : "+reqYesNo(fl.v))
	}
	return a
}

func reqYesNo(b *bool) string {
	switch {
	case b == nil:
		return "non renseigné"
	case *b:
		return "oui"
	}
	return "non"
}

// refusalMessages word the referential's reasons for an operation that does not apply.
var refusalMessages = map[string]string{
	"invalid_operation":             "l'opération est incomplète ou mal formée",
	"invalid_value":                 "une valeur n'est pas valide",
	"fiche_required":                "aucune fiche n'est désignée : saisissez le code ROME",
	"unknown_fiche":                 "cette fiche n'existe pas dans le référentiel",
	"fiche_exists":                  "la création de fiche doit être la première opération",
	"same_fiche":                    "la fiche cible est la fiche elle-même",
	"unknown_appellation":           "cette appellation n'existe pas dans le référentiel",
	"appellation_not_on_fiche":      "cette appellation n'est pas sur la fiche",
	"principal_appellation":         "l'appellation principale porte le nom de la fiche : elle ne se supprime ni ne se déplace, elle se renomme",
	"duplicate_appellation":         "une appellation porte déjà ce libellé",
	"libelle_mismatch":              "une fiche prend le libellé de son appellation principale",
	"unknown_domaine_professionnel": "ce domaine professionnel n'existe pas",
	"unknown_grand_domaine":         "ce domaine professionnel n'existe pas",
	"domaine_full":                  "ce domaine professionnel n'a plus de code ROME libre",
	"unknown_macro_competence":      "ce code n'est pas celui d'une macro-compétence",
	"invalid_macro_competence":      "une nouvelle compétence se range sous une macro-compétence de savoir-faire",
	"unknown_competence":            "cette compétence n'existe pas dans le référentiel",
	"unknown_savoir":                "ce savoir n'existe pas dans le référentiel",
	"unknown_contexte":              "ce contexte de travail n'existe pas dans le référentiel",
	"already_on_fiche":              "cet élément est déjà sur la fiche",
	"not_on_fiche":                  "cet élément n'est pas sur la fiche",
}

// refusalText words why an operation does not apply ("" when it does).
func refusalText(r refclient.Result) string {
	if r.Applies {
		return ""
	}
	msg, ok := refusalMessages[r.Code]
	switch {
	case ok && r.Reason != "":
		msg += " (" + r.Reason + ")"
	case !ok:
		msg = orRaw(r.Reason, r.Code)
	}
	return reqCapitalize(msg) + "."
}

func reqCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func wordChange(ch refclient.Change) changeLine {
	l := changeLine{Action: reqCapitalize(orRaw(changeActions[ch.Action], ch.Action)), Entity: orRaw(changeEntities[ch.Entity], ch.Entity),
		Label: ch.Libelle, Code: ch.CodeOgr, CodeRome: ch.CodeRome}
	var parts []string
	if ch.Field != "" {
		parts = append(parts, orRaw(changeFieldLabels[ch.Field], ch.Field))
	}
	if ch.Before != nil {
		parts = append(parts, "avant : "+changeValueText(ch.Before))
	}
	if ch.After != nil {
		parts = append(parts, "après : "+changeValueText(ch.After))
	}
	l.Detail = strings.Join(parts, " ; ")
	return l
}
