package ui

// The notifications page: the person's inbox, their notification preferences and what
// they follow.

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/notifclient"
)

// inboxPageSize is the number of notifications a page of the inbox shows.
const inboxPageSize = 20

// notifEventLabels name the events people are notified of.
var notifEventLabels = map[notifclient.Event]string{
	notifclient.EventSubmitted:  "Demande soumise",
	notifclient.EventAssigned:   "Demande prise en charge",
	notifclient.EventQuestion:   "Question de l'équipe ROME",
	notifclient.EventAnswer:     "Réponse du partenaire",
	notifclient.EventTeamsReply: "Message écrit dans Teams",
	notifclient.EventMessage:    "Nouveau message sur une demande",
	notifclient.EventReminder:   "Relance d'une demande en attente",
	notifclient.EventEscalation: "Escalade d'une demande en retard",
	notifclient.EventDecision:   "Décision sur une demande",
	notifclient.EventPublished:  "Publication dans le référentiel",
	notifclient.EventWithdrawn:  "Demande retirée",
	notifclient.EventExpired:    "Demande expirée",

	notifclient.EventIdeaHandedOver: "Idée confiée à votre organisation",
	notifclient.EventIdeaReply:      "Réponse de l'équipe ROME à une idée",
	notifclient.EventAccessRequest:  "Votre demande d'accès",
	notifclient.EventAccessReview:   "Demande d'accès à examiner",
}

// notifFrequencies are the choices of when e-mails and Teams notifications are sent.
var notifFrequencies = []choice{
	{string(notifclient.Immediate), "Immédiatement"},
	{string(notifclient.Daily), "Résumé quotidien"},
}

// inboxLine is a notification as the inbox shows it.
type inboxLine struct {
	notifclient.InboxItem
	EventLabel string
	// Href is where the notification leads: its link, else its request or fiche.
	Href string
}

// followLine is something the person follows.
type followLine struct {
	Label, Href         string
	RequestID, CodeRome string
	Since               time.Time
}

// prefEvent is one event's line of the preferences form.
type prefEvent struct {
	Event        string
	Label        string
	Email, Teams bool
	Frequency    string
}

// prefsForm is the preferences form.
type prefsForm struct {
	Email  string
	Events []prefEvent
}

type notificationsData struct {
	Items       []inboxLine
	Unread      int64
	Cursor      string // the page shown ("": the newest)
	NextCursor  string
	Return      string // this page's address, where the forms come back
	Prefs       prefsForm
	Frequencies []choice
	Errors      fieldErrors
	Follows     []followLine
}

// inboxHref is where a notification leads: its own link when it is one of the console's,
// else the request or the fiche it is about.
func inboxHref(it notifclient.InboxItem) string {
	if it.Link != "" && localPath(it.Link) == it.Link {
		return it.Link
	}
	switch {
	case it.RequestID != "":
		return "/demandes/" + url.PathEscape(it.RequestID)
	case it.CodeRome != "":
		return "/referentiel/fiches/" + url.PathEscape(it.CodeRome)
	}
	return ""
}

// prefsFromService is the form showing the person's settings; every event has a line,
// with the service's defaults when it did not list it.
func prefsFromService(p notifclient.Preferences) prefsForm {
	f := prefsForm{Email: p.Email}
	for _, e := range notifclient.Events {
		ch, ok := p.Events[e]
		if !ok || (ch.Frequency != notifclient.Immediate && ch.Frequency != notifclient.Daily) {
			ch.Frequency = notifclient.Immediate
		}
		f.Events = append(f.Events, prefEvent{Event: string(e), Label: orRaw(notifEventLabels[e], string(e)),
			Email: ch.Email, Teams: ch.Teams, Frequency: string(ch.Frequency)})
	}
	return f
}

// Form field names of an event's line.
func prefField(event, name string) string { return event + "-" + name }

// parsePrefs reads the posted preferences form, with what is wrong in it.
func parsePrefs(c *gin.Context) (prefsForm, fieldErrors) {
	errs := fieldErrors{}
	f := prefsForm{Email: strings.TrimSpace(c.PostForm("email"))}
	if len(f.Email) > 254 {
		errs.add("email", "Une adresse e-mail compte au plus 254 caractères.")
	}
	for _, e := range notifclient.Events {
		ev := prefEvent{Event: string(e), Label: orRaw(notifEventLabels[e], string(e)),
			Email: c.PostForm(prefField(string(e), "email")) != "", Teams: c.PostForm(prefField(string(e), "teams")) != "",
			Frequency: c.PostForm(prefField(string(e), "frequence"))}
		if ev.Frequency != string(notifclient.Immediate) && ev.Frequency != string(notifclient.Daily) {
			errs.add(prefField(string(e), "frequence"), "Choisissez « Immédiatement » ou « Résumé quotidien ».")
			ev.Frequency = string(notifclient.Immediate)
		}
		f.Events = append(f.Events, ev)
	}
	return f, errs
}

// toService is the body of PUT /v1/notifications/preferences.
func (f prefsForm) toService() notifclient.Preferences {
	p := notifclient.Preferences{Email: f.Email, Events: map[notifclient.Event]notifclient.Channels{}}
	for _, e := range f.Events {
		p.Events[notifclient.Event(e.Event)] = notifclient.Channels{InApp: true, Email: e.Email, Teams: e.Teams, Frequency: notifclient.Frequency(e.Frequency)}
	}
	return p
}

// prefsProblemField maps a field of the service's 422 to the form's: "email", or
// "events.<event>.frequency" to the event's frequency select.
func prefsProblemField(field string) string {
	if field == "email" {
		return "email"
	}
	if rest, ok := strings.CutPrefix(field, "events."); ok {
		event, name, _ := strings.Cut(rest, ".")
		switch name {
		case "frequency":
			return prefField(event, "frequence")
		case "email":
			return prefField(event, "email")
		case "teams":
			return prefField(event, "teams")
		}
	}
	return ""
}

// prefsProblemMessages word the service's refusals of the preferences in French.
func prefsProblemMessages(errs fieldErrors) {
	for field := range errs {
		switch {
		case field == "email":
			errs[field] = "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr, ou laissez le champ vide."
		case strings.HasSuffix(field, "-frequence"):
			errs[field] = "Choisissez « Immédiatement » ou « Résumé quotidien »."
		}
	}
}

func (h *handlers) notificationsPage(c *gin.Context) {
	h.renderNotifications(c, http.StatusOK, nil, nil)
}

// renderNotifications shows the page; form and errs are the preferences form sent back
// with its errors (nil: the person's settings).
func (h *handlers) renderNotifications(c *gin.Context, status int, form *prefsForm, errs fieldErrors) {
	ctx := c.Request.Context()
	cursor := c.Query("curseur")
	if len(cursor) > 100 {
		cursor = ""
	}
	var (
		inbox   notifclient.Inbox
		prefs   notifclient.Preferences
		follows []notifclient.Follow
		p       fanout
	)
	p.do(func() (err error) { inbox, err = h.Backend.Notifications.Inbox(ctx, inboxPageSize, cursor); return err })
	if form == nil {
		p.do(func() (err error) { prefs, err = h.Backend.Notifications.Preferences(ctx); return err })
	}
	p.do(func() (err error) { follows, err = h.Backend.Notifications.Follows(ctx); return err })
	if err := p.wait(); err != nil {
		if _, bad := problemWithStatus(err, http.StatusUnprocessableEntity); bad && cursor != "" {
			h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Cette page de la boîte de réception n'existe pas (ou plus).", Back: "/notifications", BackLabel: "Retour aux notifications"})
			return
		}
		h.backendFailed(c, err)
		return
	}
	d := notificationsData{Unread: inbox.UnreadCount, Cursor: cursor, NextCursor: inbox.NextCursor,
		Return: "/notifications", Frequencies: notifFrequencies, Errors: errs}
	if cursor != "" {
		d.Return += "?curseur=" + url.QueryEscape(cursor)
	}
	if d.Errors == nil {
		d.Errors = fieldErrors{}
	}
	for _, it := range inbox.Items {
		d.Items = append(d.Items, inboxLine{InboxItem: it, EventLabel: orRaw(notifEventLabels[it.Event], string(it.Event)), Href: inboxHref(it)})
	}
	if form != nil {
		d.Prefs = *form
	} else {
		d.Prefs = prefsFromService(prefs)
	}
	for _, f := range follows {
		l := followLine{RequestID: f.RequestID, CodeRome: f.CodeRome}
		if f.CreatedAt != nil {
			l.Since = *f.CreatedAt
		}
		if f.CodeRome != "" {
			l.Label, l.Href = "Fiche "+f.CodeRome, "/referentiel/fiches/"+url.PathEscape(f.CodeRome)
		} else {
			l.Label, l.Href = "Demande "+f.RequestID, "/demandes/"+url.PathEscape(f.RequestID)
		}
		d.Follows = append(d.Follows, l)
	}
	title := "Notifications"
	if cursor != "" {
		title = "Notifications plus anciennes – Notifications"
	}
	h.render(c, status, "notifications", view{Title: title, Section: "notifications", Unread: inbox.UnreadCount, Data: d})
}

// notificationRead marks a notification read, and goes back to the page it was read on.
func (h *handlers) notificationRead(c *gin.Context) {
	if err := h.Backend.Notifications.MarkRead(c.Request.Context(), c.Param("id")); err != nil {
		h.backendFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, backWithMessage(returnTo(c, "/notifications"), "lue"))
}

// returnTo is the form's "retour" field when it is a console address, else fallback.
func returnTo(c *gin.Context, fallback string) string {
	if r := c.PostForm("retour"); r != "" && localPath(r) == r {
		return r
	}
	return fallback
}

func (h *handlers) notificationPreferences(c *gin.Context) {
	form, errs := parsePrefs(c)
	if errs.Any() {
		h.renderNotifications(c, http.StatusUnprocessableEntity, &form, errs)
		return
	}
	_, err := h.Backend.Notifications.SetPreferences(c.Request.Context(), form.toService())
	if e, ok := problemWithStatus(err, http.StatusUnprocessableEntity); ok {
		errs = fromProblem(e, prefsProblemField)
		prefsProblemMessages(errs)
		h.renderNotifications(c, http.StatusUnprocessableEntity, &form, errs)
		return
	}
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/notifications?message=preferences")
}

// unfollow stops following a request or a fiche; not following it (any more) is no error.
func (h *handlers) unfollow(c *gin.Context) {
	f := notifclient.Follow{RequestID: strings.TrimSpace(c.PostForm("requestId")), CodeRome: strings.TrimSpace(c.PostForm("codeRome"))}
	if (f.RequestID == "") == (f.CodeRome == "") {
		h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Indiquez la demande ou la fiche à ne plus suivre.", Back: "/notifications", BackLabel: "Retour aux notifications"})
		return
	}
	if err := h.Backend.Notifications.Unfollow(c.Request.Context(), f); err != nil && !serviceNotFound(err) {
		h.backendFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, backWithMessage(returnTo(c, "/notifications"), "plus-suivie"))
}
