package ui

// The administration page (admins): the notification deliveries given up, to send again,
// and the directory's people and organisations, with the way to the pages that keep them.

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

const (
	adminDeadPageSize = 50
	// adminPeopleShown is how many people the page shows; the people's page lists them all.
	adminPeopleShown = 20
)

// deadLine is a delivery given up, in words.
type deadLine struct {
	notifclient.DeadLetter
	ChannelLabel, KindLabel string
}

type adminData struct {
	Dead                 []deadLine
	DeadCursor, DeadNext string
	People               []backend.Person
	// MorePeople: the directory has more people than the page shows.
	MorePeople bool
	Orgs       []backend.Organisation
	OrgNames   map[string]string
	Return     string
}

// DeadURL is the page's address at a page of the dead letters.
func (d adminData) DeadURL(cursor string) string {
	if cursor == "" {
		return "/administration"
	}
	return "/administration?" + url.Values{"envois": {cursor}}.Encode()
}

var (
	deadChannelLabels = map[string]string{"email": "E-mail", "teams": "Teams"}
	deadKindLabels    = map[string]string{"notification": "Notification", "digest": "Résumé quotidien"}
)

func (h *handlers) adminPage(c *gin.Context) {
	ctx := c.Request.Context()
	d := adminData{DeadCursor: cursorParam(c, "envois")}
	d.Return = d.DeadURL(d.DeadCursor)
	var (
		dead   notifclient.DeadLetters
		people backend.PeoplePage
		p      fanout
	)
	p.do(func() (err error) {
		dead, err = h.Backend.Notifications.DeadLetters(ctx, adminDeadPageSize, d.DeadCursor)
		return err
	})
	p.do(func() (err error) {
		people, err = h.Backend.Intake.People(ctx, backend.PeopleFilter{Limit: adminPeopleShown})
		return err
	})
	p.do(func() (err error) { d.Orgs, err = h.Backend.Intake.Organisations(ctx); return err })
	if err := p.wait(); err != nil {
		if _, bad := problemWithStatus(err, http.StatusUnprocessableEntity); bad && d.DeadCursor != "" {
			h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Cette page de la liste n'existe pas (ou plus).", Back: "/administration", BackLabel: "Retour à l'administration"})
			return
		}
		h.backendFailed(c, err)
		return
	}
	for _, dl := range dead.Items {
		d.Dead = append(d.Dead, deadLine{DeadLetter: dl, ChannelLabel: orRaw(deadChannelLabels[dl.Channel], dl.Channel),
			KindLabel: orRaw(deadKindLabels[dl.Kind], dl.Kind)})
	}
	d.DeadNext = dead.NextCursor
	d.People, d.MorePeople, d.OrgNames = people.Items, people.NextCursor != "", orgNames(d.Orgs)
	h.render(c, http.StatusOK, "admin", view{Title: "Administration", Section: "administration", Data: d})
}

// cursorParam is a list's page cursor from the query ("" when absent or implausible).
func cursorParam(c *gin.Context, name string) string {
	s := c.Query(name)
	if len(s) > 200 {
		return ""
	}
	return s
}

// adminRetry queues a dead delivery again.
func (h *handlers) adminRetry(c *gin.Context) {
	err := h.Backend.Notifications.RetryDeadLetter(c.Request.Context(), c.Param("id"))
	if _, ok := problemWithStatus(err, http.StatusConflict); ok {
		h.errorPage(c, http.StatusConflict, pageError{Detail: "Cet envoi n'est plus en échec : il a déjà été relancé ou envoyé.",
			Back: "/administration", BackLabel: "Retour à l'administration"})
		return
	}
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, backWithMessage(returnTo(c, "/administration"), "relancee"))
}
