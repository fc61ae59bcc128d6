package ui

// Access requests, the applicant's side: a recognised expert applies for an account at
// /acces (signed in or not; a visitor's form carries the pre-session CSRF token, as the
// idea form), confirms their address from the link of the e-mail the intake sends them,
// and answers the team's questions from another. The links carry a token (jeton) that
// the console passes on: it proves the applicant, who has no account yet.
//
// The page a link opens never acts by itself (mail scanners open links): confirming an
// address is a POST of the button it shows.

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

// grandsDomaines are the ROME 4.0's fourteen grands domaines, with their labels in the
// referential (unix_grand_domaine_v460_utf8.csv): the form offers them without a call to
// the referential, which visitors cannot query.
var grandsDomaines = []choice{
	{"A", "Agriculture et Pêche, Espaces naturels et Espaces verts, Soins aux animaux"},
	{"B", "Arts et Façonnage d'ouvrages d'art"},
	{"C", "Banque, Assurance, Immobilier"},
	{"D", "Commerce, Vente et Grande distribution"},
	{"E", "Communication, Média et Multimédia"},
	{"F", "Construction, Bâtiment et Travaux publics"},
	{"G", "Hôtellerie-Restauration, Tourisme, Loisirs et Animation"},
	{"H", "Industrie"},
	{"I", "Installation et Maintenance"},
	{"J", "Santé"},
	{"K", "Services à la personne et à la collectivité"},
	{"L", "Spectacle"},
	{"M", "Support à l'entreprise"},
	{"N", "Transport et Logistique"},
}

// accessStatusLabels say an access request's status in French.
var accessStatusLabels = map[string]string{
	backend.AccessAwaitingVerification: "Adresse à vérifier",
	backend.AccessAwaitingReview:       "À examiner",
	backend.AccessAwaitingApplicant:    "En attente du demandeur",
	backend.AccessApproved:             "Approuvée",
	backend.AccessRejected:             "Refusée",
	backend.AccessExpired:              "Expirée",
}

func accessStatus(s string) string { return orRaw(accessStatusLabels[s], s) }

// accessStatusClass is the DSFR badge colour of an access request's status.
func accessStatusClass(s string) string {
	switch s {
	case backend.AccessApproved:
		return "fr-badge--success"
	case backend.AccessRejected, backend.AccessExpired:
		return "fr-badge--error"
	case backend.AccessAwaitingReview:
		return "fr-badge--new"
	}
	return "fr-badge--info"
}

// domainLabel names a domain of expertise: a grand domaine's letter with its label, a
// code ROME as it is.
func domainLabel(d string) string {
	for _, g := range grandsDomaines {
		if g.Value == d {
			return g.Value + " – " + g.Label
		}
	}
	return d
}

// accessForm is the application form as typed; Website is the honeypot.
type accessForm struct {
	Name, Email, OrgName, OrgKind, Position, Motivation, Website string
	// Domains are the grands domaines ticked; CodesRome the codes typed.
	Domains   []string
	CodesRome string
}

// Ticked tells whether the grand domaine d is ticked.
func (f accessForm) Ticked(d string) bool { return slices.Contains(f.Domains, d) }

// codeSeparators split the codes ROME typed: commas, semicolons, spaces.
var codeSeparators = regexp.MustCompile(`[\s,;]+`)

func readAccessForm(c *gin.Context) accessForm {
	field := func(name string) string { return strings.TrimSpace(c.PostForm(name)) }
	f := accessForm{Name: field("name"), Email: field("email"), OrgName: field("orgName"), OrgKind: c.PostForm("orgKind"),
		Position: field("position"), Motivation: c.PostForm("motivation"), Website: c.PostForm("website"), CodesRome: field("codesRome")}
	for _, d := range c.PostFormArray("domains") {
		if slices.ContainsFunc(grandsDomaines, func(g choice) bool { return g.Value == d }) && !slices.Contains(f.Domains, d) {
			f.Domains = append(f.Domains, d)
		}
	}
	return f
}

// codes are the codes ROME typed, upper-cased (the intake checks them).
func (f accessForm) codes() []string {
	out := []string{}
	for _, c := range codeSeparators.Split(strings.ToUpper(f.CodesRome), -1) {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

type accessFormData struct {
	Form    accessForm
	Errors  fieldErrors
	CSRF    string
	Kinds   []choice
	Domains []choice
	// Alert says why the application was not sent when no field is to blame.
	Alert string
}

// formCSRF is the token of a form visitors and signed-in people both send: the session's,
// or the pre-session one.
func (h *handlers) formCSRF(c *gin.Context) string {
	if s, ok := session.From(c); ok {
		return s.CSRF
	}
	return h.Cookies.PreSessionCSRF(c.Writer, c.Request)
}

// visitorCSRFOK tells whether a public form's POST carries its token: loadSession checked
// a signed-in person's; a visitor's is the pre-session one.
func (h *handlers) visitorCSRFOK(c *gin.Context) bool {
	_, signedIn := session.From(c)
	return signedIn || h.Cookies.CheckPreSessionCSRF(c.Request)
}

func (h *handlers) accessFormPage(c *gin.Context) {
	h.renderAccessForm(c, http.StatusOK, accessForm{}, fieldErrors{}, "")
}

func (h *handlers) renderAccessForm(c *gin.Context, status int, f accessForm, errs fieldErrors, alert string) {
	h.render(c, status, "access_form", view{Title: "Demander un accès", Data: accessFormData{
		Form: f, Errors: errs, CSRF: h.formCSRF(c), Kinds: orgKindChoices, Domains: grandsDomaines, Alert: alert}})
}

func (h *handlers) submitAccessRequest(c *gin.Context) {
	f := readAccessForm(c)
	if !h.visitorCSRFOK(c) {
		h.renderAccessForm(c, http.StatusForbidden, f, fieldErrors{}, "Ce formulaire a expiré : votre demande n'a pas été envoyée. Vérifiez-la ci-dessous et envoyez-la à nouveau.")
		return
	}
	codes := f.codes()
	domains := append(slices.Clone(f.Domains), codes...)
	ctx := c.Request.Context()
	_, err := h.Backend.Intake.SubmitAccessRequest(ctx, backend.NewAccessRequest{Name: f.Name, Email: f.Email, OrgName: f.OrgName,
		OrgKind: f.OrgKind, Position: f.Position, Domains: domains, Motivation: f.Motivation, Website: f.Website}, forwardedFor(c.Request))
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/acces/merci")
		return
	}
	e, ok := backend.AsError(err)
	switch {
	case ok && e.Status == http.StatusUnprocessableEntity:
		h.renderAccessForm(c, e.Status, f, accessFormErrors(e, len(f.Domains), codes), "")
	case ok && e.Status == http.StatusTooManyRequests:
		h.renderAccessForm(c, e.Status, f, fieldErrors{}, "Trop de demandes d'accès ont été envoyées depuis votre connexion ou avec cette adresse ces derniers temps : "+
			"votre demande n'a pas été envoyée. Elle est conservée ci-dessous ; réessayez "+retryIn(e)+".")
	default:
		slog.WarnContext(ctx, "access request not sent", "error", err)
		h.renderAccessForm(c, http.StatusServiceUnavailable, f, fieldErrors{}, "La plateforme ne répond pas pour le moment : votre demande n'a pas été envoyée. "+
			"Elle est conservée ci-dessous ; réessayez dans un instant.")
	}
}

// accessFormErrors places the intake's refusals next to the form's fields: a domain
// refused by its index is one of the grands domaines ticked (they come first) or one of
// the codes ROME typed, which the message names.
func accessFormErrors(e *backend.Error, ticked int, codes []string) fieldErrors {
	errs := fieldErrors{}
	var badCodes []string
	for _, fe := range e.Errors {
		var i int
		if _, err := fmt.Sscanf(fe.Field, "domains[%d]", &i); err == nil {
			if j := i - ticked; j >= 0 && j < len(codes) {
				badCodes = append(badCodes, "« "+codes[j]+" »")
			} else {
				errs.add("domains", frenchMessage(fe))
			}
			continue
		}
		if fe.Field == "orgKind" {
			errs.add(fe.Field, "Choisissez le type de votre organisation.")
		}
		errs.add(fe.Field, frenchMessage(fe))
	}
	if len(badCodes) > 0 {
		errs.add("codesRome", "Code"+pluralS(len(badCodes))+" non reconnu"+pluralS(len(badCodes))+" : "+strings.Join(badCodes, ", ")+
			". Saisissez des codes ROME : une lettre et quatre chiffres, par exemple M1805.")
	}
	if len(errs) == 0 {
		errs.add("", "La plateforme a refusé cette demande : "+e.Detail)
	}
	return errs
}

// retryIn says when to try again after a 429: the problem's retryAfter (seconds), or its
// Retry-After header.
func retryIn(e *backend.Error) string {
	var ext struct {
		RetryAfter int `json:"retryAfter"`
	}
	wait := e.RetryAfter
	if e.Extension(&ext) == nil && ext.RetryAfter > 0 {
		wait = time.Duration(ext.RetryAfter) * time.Second
	}
	switch {
	case wait <= 0:
		return "plus tard"
	case wait <= time.Minute:
		return "dans une minute"
	case wait < time.Hour:
		return fmt.Sprintf("dans %d minutes", int((wait+time.Minute-1)/time.Minute))
	case wait <= time.Hour:
		return "dans une heure"
	default:
		return fmt.Sprintf("dans %d heures", int((wait+time.Hour-1)/time.Hour))
	}
}

func (h *handlers) accessThanks(c *gin.Context) {
	h.render(c, http.StatusOK, "access_thanks", view{Title: "Demande d'accès envoyée"})
}

// accessOutcome is what a link's page says when it cannot, or no longer needs to, act.
type accessOutcome struct {
	// Title is the page's title, Heading its h1.
	Title, Heading string
	// Kind is the DSFR alert's kind: success, info, warning, error.
	Kind string
	Text string
	// ApplyAgain offers the form again; SignIn the sign-in page.
	ApplyAgain, SignIn bool
}

var (
	accessLinkInvalid = accessOutcome{Title: "Lien non valide", Heading: "Ce lien n'est pas valide", Kind: "error",
		Text:       "Le lien que vous avez suivi ne correspond à aucune demande d'accès. Vérifiez que vous avez copié l'adresse complète depuis l'e-mail reçu, ou faites une nouvelle demande.",
		ApplyAgain: true}
	accessLinkExpired = accessOutcome{Title: "Lien expiré", Heading: "Ce lien a expiré", Kind: "warning",
		Text:       "Le délai pour utiliser ce lien est dépassé et la demande d'accès correspondante est close. Faites une nouvelle demande : vous recevrez un nouveau lien.",
		ApplyAgain: true}
)

func (h *handlers) renderAccessOutcome(c *gin.Context, status int, o accessOutcome) {
	h.render(c, status, "access_outcome", view{Title: o.Title, Data: o})
}

// accessLinkFailed shows the page of a link the intake refused (unknown, expired), or the
// error page for anything else.
func (h *handlers) accessLinkFailed(c *gin.Context, err error) {
	e, ok := backend.AsError(err)
	switch {
	case ok && (e.Status == http.StatusNotFound || e.Status == http.StatusUnprocessableEntity):
		h.renderAccessOutcome(c, http.StatusNotFound, accessLinkInvalid)
	case ok && e.Status == http.StatusGone:
		h.renderAccessOutcome(c, http.StatusGone, accessLinkExpired)
	default:
		slog.WarnContext(c.Request.Context(), "access request link not followed", "error", err)
		h.errorPage(c, http.StatusServiceUnavailable, pageError{Detail: "Réessayez dans un instant avec le même lien : il reste valable.",
			Back: "/acces", BackLabel: "Demander un accès"})
	}
}

// accessPublicPath is a link's page: /acces/{id}/verifier or /acces/{id}/repondre.
func accessPublicPath(id, page string) string { return "/acces/" + url.PathEscape(id) + "/" + page }

type accessLinkData struct {
	ID, Token, CSRF string
	// Alert explains why the form's action did not happen when no field is to blame.
	Alert string
}

// accessVerifyPage shows the button that confirms the address; opening the link does not.
func (h *handlers) accessVerifyPage(c *gin.Context) {
	token := c.Query("jeton")
	if token == "" {
		h.renderAccessOutcome(c, http.StatusNotFound, accessLinkInvalid)
		return
	}
	h.render(c, http.StatusOK, "access_verify", view{Title: "Confirmer votre adresse",
		Data: accessLinkData{ID: c.Param("id"), Token: token, CSRF: h.formCSRF(c)}})
}

func (h *handlers) accessVerify(c *gin.Context) {
	id, token := c.Param("id"), c.PostForm("jeton")
	if !h.visitorCSRFOK(c) {
		h.render(c, http.StatusForbidden, "access_verify", view{Title: "Confirmer votre adresse",
			Data: accessLinkData{ID: id, Token: token, CSRF: h.formCSRF(c),
				Alert: "Cette page a expiré : votre adresse n'est pas encore confirmée. Cliquez à nouveau sur le bouton."}})
		return
	}
	if token == "" {
		h.renderAccessOutcome(c, http.StatusNotFound, accessLinkInvalid)
		return
	}
	_, err := h.Backend.Intake.VerifyAccessRequest(c.Request.Context(), id, token)
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/acces/adresse-confirmee")
		return
	}
	if e, ok := problemWithStatus(err, http.StatusConflict); ok {
		status, o := alreadyVerified(e)
		h.renderAccessOutcome(c, status, o)
		return
	}
	h.accessLinkFailed(c, err)
}

// alreadyVerified says kindly that there was nothing left to confirm (the address is,
// and the person got what they came for: 200), and what became of the request when the
// intake says so; an expired request is the expired link's page.
func alreadyVerified(e *backend.Error) (int, accessOutcome) {
	var ext struct {
		CurrentStatus string `json:"currentStatus"`
	}
	_ = e.Extension(&ext)
	switch ext.CurrentStatus {
	case backend.AccessExpired:
		return http.StatusGone, accessLinkExpired
	case backend.AccessApproved:
		return http.StatusOK, accessOutcome{Title: "Adresse déjà confirmée", Heading: "Votre adresse est déjà confirmée", Kind: "success",
			Text: "Votre demande d'accès a été approuvée : vous pouvez vous connecter à la plateforme.", SignIn: true}
	case backend.AccessRejected:
		return http.StatusOK, accessOutcome{Title: "Adresse déjà confirmée", Heading: "Votre adresse est déjà confirmée", Kind: "info",
			Text: "Votre demande d'accès a déjà été examinée : la réponse de l'équipe ROME vous a été envoyée par e-mail."}
	}
	return http.StatusOK, accessOutcome{Title: "Adresse déjà confirmée", Heading: "Votre adresse est déjà confirmée", Kind: "info",
		Text: "Il n'y a rien de plus à faire : votre demande d'accès est entre les mains de l'équipe ROME, qui vous répondra par e-mail."}
}

func (h *handlers) accessVerified(c *gin.Context) {
	h.renderAccessOutcome(c, http.StatusOK, accessOutcome{Title: "Adresse confirmée", Heading: "Votre adresse est confirmée", Kind: "success",
		Text: "Merci. L'équipe ROME va examiner votre demande d'accès ; elle vous répondra par e-mail, ou vous posera ses questions par ce moyen."})
}

type accessAnswerData struct {
	accessLinkData
	View backend.ApplicantView
	// CanAnswer: a question of the team waits for the applicant's answer.
	CanAnswer bool
	Answer    string
	Errors    fieldErrors
}

// loadApplicantView reads the request through the link, or renders the page of a link
// the intake refused.
func (h *handlers) loadApplicantView(c *gin.Context, id, token string) (accessAnswerData, bool) {
	d := accessAnswerData{accessLinkData: accessLinkData{ID: id, Token: token, CSRF: h.formCSRF(c)}, Errors: fieldErrors{}}
	if token == "" {
		h.renderAccessOutcome(c, http.StatusNotFound, accessLinkInvalid)
		return d, false
	}
	v, err := h.Backend.Intake.AccessRequestForApplicant(c.Request.Context(), id, token)
	if err != nil {
		h.accessLinkFailed(c, err)
		return d, false
	}
	d.View, d.CanAnswer = v, v.Status == backend.AccessAwaitingApplicant
	return d, true
}

func (h *handlers) renderAccessAnswer(c *gin.Context, status int, d accessAnswerData) {
	h.render(c, status, "access_answer", view{Title: "Répondre à l'équipe ROME", Data: d})
}

func (h *handlers) accessAnswerPage(c *gin.Context) {
	if d, ok := h.loadApplicantView(c, c.Param("id"), c.Query("jeton")); ok {
		h.renderAccessAnswer(c, http.StatusOK, d)
	}
}

func (h *handlers) accessAnswer(c *gin.Context) {
	id, token, text := c.Param("id"), c.PostForm("jeton"), c.PostForm("reponse")
	var (
		status = 0
		errs   = fieldErrors{}
		alert  string
	)
	if h.visitorCSRFOK(c) {
		_, err := h.Backend.Intake.AnswerAccessRequest(c.Request.Context(), id, token, strings.TrimSpace(text))
		if err == nil {
			c.Redirect(http.StatusSeeOther, accessPublicPath(id, "repondre")+"?"+url.Values{"jeton": {token}, "message": {"acces-reponse"}}.Encode())
			return
		}
		e, ok := backend.AsError(err)
		switch {
		case ok && e.Status == http.StatusUnprocessableEntity:
			status = e.Status
			for _, f := range e.Errors {
				if f.Field == "token" {
					h.renderAccessOutcome(c, http.StatusNotFound, accessLinkInvalid)
					return
				}
				errs.add("reponse", frenchMessage(f))
			}
			errs.add("reponse", "La plateforme a refusé cette réponse : "+e.Detail)
		case ok && e.Status == http.StatusConflict:
			status, alert = e.Status, "Aucune question de l'équipe ROME n'attend de réponse : votre texte n'a pas été envoyé. La page montre où en est votre demande."
		case ok && e.Status == http.StatusTooManyRequests:
			status, alert = e.Status, "Trop de réponses ont été envoyées ces derniers temps : la vôtre n'a pas été envoyée. Elle est conservée ci-dessous ; réessayez "+retryIn(e)+"."
		default:
			h.accessLinkFailed(c, err)
			return
		}
	} else {
		status, alert = http.StatusForbidden, "Cette page a expiré : votre réponse n'a pas été envoyée. Elle est conservée ci-dessous ; envoyez-la à nouveau."
	}
	d, ok := h.loadApplicantView(c, id, token)
	if !ok {
		return
	}
	d.Answer, d.Errors, d.Alert = text, errs, alert
	h.renderAccessAnswer(c, status, d)
}
