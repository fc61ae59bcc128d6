package ui

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/console/internal/assets"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The French words people read for the platform's values. The status labels are fixed by
// the console's contract (console.md).
var (
	statusLabels = map[request.Status]string{
		request.StatusSubmitted:       "Soumise",
		request.StatusChecking:        "Vérifications en cours",
		request.StatusAwaitingTriage:  "À prendre en charge",
		request.StatusInReview:        "En instruction",
		request.StatusAwaitingPartner: "En attente du partenaire",
		request.StatusPublishing:      "Publication en cours",
		request.StatusAccepted:        "Acceptée, en attente de la release",
		request.StatusPublished:       "Publiée",
		request.StatusRejected:        "Refusée",
		request.StatusWithdrawn:       "Retirée",
		request.StatusExpired:         "Expirée",
	}
	kindLabels = map[request.Kind]string{
		request.KindModifyFiche:     "Modifier une fiche",
		request.KindCreateFromKnown: "Créer une fiche depuis une appellation connue",
		request.KindCreateFromNew:   "Créer une fiche depuis une nouvelle appellation",
	}

	opLabels = map[string]string{
		refclient.OpCreateFiche:       "Créer la fiche",
		refclient.OpAddAppellation:    "Ajouter une appellation",
		refclient.OpUpdateAppellation: "Modifier une appellation",
		refclient.OpRemoveAppellation: "Supprimer une appellation",
		refclient.OpMoveAppellation:   "Déplacer une appellation",
		refclient.OpAddCompetence:     "Ajouter une compétence",
		refclient.OpRemoveCompetence:  "Retirer une compétence",
		refclient.OpSetCoeurMetier:    "Changer le cœur de métier",
		refclient.OpAddSavoir:         "Ajouter un savoir",
		refclient.OpRemoveSavoir:      "Retirer un savoir",
		refclient.OpAddContexte:       "Ajouter un contexte de travail",
		refclient.OpRemoveContexte:    "Retirer un contexte de travail",
		refclient.OpAddMobilite:       "Ajouter une mobilité",
		refclient.OpRemoveMobilite:    "Retirer une mobilité",
		refclient.OpSetText:           "Réécrire un texte",
		refclient.OpSetTags:           "Changer les indicateurs",
	}
	decisionLabels = map[string]string{
		request.DecisionAccepted: "Acceptée",
		request.DecisionRejected: "Refusée",
		request.DecisionAmended:  "Amendée",
	}
	roleLabels = map[string]string{
		request.RolePartner:   "partenaire",
		request.RoleModerator: "équipe ROME",
		request.RoleAdmin:     "administration",
		request.RoleService:   "plateforme",
		request.RoleTeams:     "Teams",
	}
	eventLabels = map[string]string{
		request.EventSubmitted:           "Demande soumise",
		request.EventChecked:             "Vérifications automatiques terminées",
		request.EventRejectedByChecks:    "Refusée par les vérifications automatiques",
		request.EventAssigned:            "Prise en charge",
		request.EventQuestionAsked:       "Question posée",
		request.EventQuestionAnswered:    "Réponse du partenaire",
		request.EventOperationsAmended:   "Opérations modifiées",
		request.EventMessagePosted:       "Message",
		request.EventDecided:             "Décision",
		request.EventPublicationConflict: "Conflit à la publication",
		request.EventStaged:              "Acceptée pour la prochaine release",
		request.EventPublished:           "Publiée dans le référentiel",
		request.EventReminder:            "Relance",
		request.EventEscalation:          "Escalade",
		request.EventWithdrawn:           "Demande retirée",
		request.EventExpired:             "Demande expirée",
		request.EventTeamsChannelCreated: "Canal Teams créé",
		request.EventTeamsUnavailable:    "Canal Teams indisponible",
		request.EventTeamsReply:          "Message écrit dans Teams",
	}
	// changeActions and changeEntities word the referential's semantic diff.
	changeActions = map[string]string{
		"added": "ajout", "removed": "retrait", "updated": "modification", "moved": "déplacement", "created": "création",
	}
	changeEntities = map[string]string{
		"fiche": "fiche", "appellation": "appellation", "competence": "compétence", "savoir": "savoir",
		"contexte": "contexte de travail", "mobilite": "mobilité", "texte": "texte", "tags": "indicateurs",
		"coeurMetier": "cœur de métier",
	}
	severityLabels = map[string]string{request.SeverityError: "Bloquant", request.SeverityWarning: "À examiner"}
)

var frenchMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// paris is the time zone of the ROME team; dates are shown in it.
var paris = mustLoadLocation("Europe/Paris")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC // a system without tzdata shows UTC rather than failing
	}
	return loc
}

// frenchDate is "4 déc. 2026 à 15 h 10".
func frenchDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(paris)
	return fmt.Sprintf("%d %s %d à %d h %02d", t.Day(), frenchMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// age is how long ago t was, in words: "il y a 3 jours".
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "à l'instant"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 24*time.Hour:
		return plural(int(d.Hours()), "heure")
	default:
		return plural(int(d.Hours()/24), "jour")
	}
}

func plural(n int, unit string) string {
	if n > 1 {
		unit += "s"
	}
	return fmt.Sprintf("il y a %d %s", n, unit)
}

func templateFuncs(set *assets.Set) template.FuncMap {
	return template.FuncMap{
		"asset":         set.URL,
		"statusLabel":   func(s request.Status) string { return orRaw(statusLabels[s], string(s)) },
		"releaseStatus": func(s string) string { return orRaw(releaseStatusLabels[s], s) },
		"stagedStatus":  func(s string) string { return orRaw(stagedStatusLabels[s], s) },
		"kindLabel":     func(k request.Kind) string { return orRaw(kindLabels[k], string(k)) },
		"opLabel":       func(op string) string { return orRaw(opLabels[op], op) },
		"decisionLabel": func(d string) string { return orRaw(decisionLabels[d], d) },
		"roleLabel":     func(r string) string { return orRaw(roleLabels[r], r) },
		"eventLabel":    func(e string) string { return orRaw(eventLabels[e], e) },
		"severityLabel": func(s string) string { return orRaw(severityLabels[s], s) },
		"changeAction":  func(a string) string { return orRaw(changeActions[a], a) },
		"changeEntity":  func(e string) string { return orRaw(changeEntities[e], e) },
		"date":          frenchDate,
		"ago":           func(t time.Time) string { return age(time.Now(), t) },
		"isoDate":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"statusClass":   statusClass,
		"deref":         func(p *string) string { return deref(p) },
		"derefInt":      func(p *int) int { return derefInt(p) },
		"join":          strings.Join,
		"add":           func(a, b int) int { return a + b },
		"statusOptions": func() []request.Status { return request.Statuses },
		"kindOptions":   func() []request.Kind { return request.Kinds },
		"closed":        func(s request.Status) bool { return s.Closed() },
		"truncate":      truncate,
		"dict":          dict,
		"list":          func(v ...string) []string { return v },
		"describe":      describeOp,
		"findingText":   findingText,
		"refusal":       func(r *refclient.Result) string { return refusalText(*r) },
		"amendable":     amendable,
		"personPath":    personPath,
		"orgPath":       orgPath,
		"orgKindLabel":  func(k string) string { return orRaw(orgKindLabels[k], orRaw(k, "non précisé")) },
		"personSource":  func(s string) string { return orRaw(personSourceLabels[s], s) },
		"importOutcome": importOutcome,
		"importColumn":  func(f string) string { return orRaw(importColumnLabels[f], f) },
		"fieldMessage":  frenchMessage,
		"pluralS":       pluralS,
		"ideaPath":      ideaPath,
		"periodLabel":   periodLabel,
		"waitLabel":     waitLabel,
		"absence":       func(until *time.Time) string { return absenceText(time.Now(), until) },
		"ideaStatus":    func(s string) string { return orRaw(ideaStatusLabels[s], s) },
		"accessStatus":  accessStatus,
		"accessClass":   accessStatusClass,
		"accessPath":    accessAdminPath,
		"accessLink":    accessPublicPath,
		"domainLabel":   domainLabel,
		"personRole":    personRoleLabel,
	}
}

func orRaw(label, raw string) string {
	if label == "" {
		return raw
	}
	return label
}

// statusClass is the DSFR badge colour of a status.
func statusClass(s request.Status) string {
	switch s {
	case request.StatusPublished:
		return "fr-badge--success"
	case request.StatusRejected, request.StatusExpired:
		return "fr-badge--error"
	case request.StatusWithdrawn:
		return "fr-badge--info"
	case request.StatusAwaitingPartner, request.StatusAwaitingTriage:
		return "fr-badge--new"
	}
	return "fr-badge--info"
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// truncate cuts s at n runes, with an ellipsis.
func truncate(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}

// dict builds a map for a sub-template's argument: dict "key" value "key2" value2.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// absenceText is the last day of an absence still running ("24 déc. 2026"), "" for none.
func absenceText(now time.Time, until *time.Time) string {
	if until == nil || !until.After(now) {
		return ""
	}
	day, _ := time.Parse(time.DateOnly, lastDayOfAbsence(until))
	return fmt.Sprintf("%d %s %d", day.Day(), frenchMonths[day.Month()-1], day.Year())
}
