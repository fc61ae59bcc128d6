package ui

// The administration page (admins): the notification deliveries given up, to send again,
// and the people and organisations the platform knows.

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/notifclient"
)

const (
	adminDeadPageSize   = 50
	adminPeoplePageSize = 50
	// adminPeopleScan bounds the people read to list the organisations (pages of 200).
	adminPeopleScanPages = 10
	adminPeopleScanSize  = 200
)

// deadLine is a delivery given up, in words.
type deadLine struct {
	notifclient.DeadLetter
	ChannelLabel, KindLabel string
}

// orgLine is an organisation seen among the people, with how many of them belong to it.
type orgLine struct {
	Org    string
	People int
	// LastSeen is the latest activity of one of its people.
	LastSeen time.Time
}

type adminData struct {
	Dead                     []deadLine
	DeadCursor, DeadNext     string
	People                   []notifclient.User
	PeopleCursor, PeopleNext string
	// PeopleUnavailable: the notifications service does not list people (an older one).
	PeopleUnavailable bool
	Orgs              []orgLine
	// Scanned is the number of people the organisations were read from; Capped tells
	// that there are more than were read.
	Scanned int
	Capped  bool
	Return  string
}

// PageURL is the page's address with one list at another page.
func (d adminData) PageURL(list, cursor string) string {
	q := url.Values{}
	dead, people := d.DeadCursor, d.PeopleCursor
	if list == "envois" {
		dead = cursor
	} else {
		people = cursor
	}
	if dead != "" {
		q.Set("envois", dead)
	}
	if people != "" {
		q.Set("personnes", people)
	}
	if len(q) == 0 {
		return "/administration"
	}
	return "/administration?" + q.Encode()
}

var (
	deadChannelLabels = map[string]string{"email": "E-mail", "teams": "Teams"}
	deadKindLabels    = map[string]string{"notification": "Notification", "digest": "Résumé quotidien"}
)

// organisations are the distinct organisations of people, most populated first.
func organisations(people []notifclient.User) []orgLine {
	by := map[string]*orgLine{}
	for _, u := range people {
		org := strings.TrimSpace(u.Org)
		if org == "" {
			continue
		}
		l := by[org]
		if l == nil {
			l = &orgLine{Org: org}
			by[org] = l
		}
		l.People++
		if u.LastSeenAt.After(l.LastSeen) {
			l.LastSeen = u.LastSeenAt
		}
	}
	out := make([]orgLine, 0, len(by))
	for _, l := range by {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b orgLine) int {
		return cmp.Or(cmp.Compare(b.People, a.People), cmp.Compare(a.Org, b.Org))
	})
	return out
}

func (h *handlers) adminPage(c *gin.Context) {
	ctx := c.Request.Context()
	d := adminData{DeadCursor: cursorParam(c, "envois"), PeopleCursor: cursorParam(c, "personnes")}
	d.Return = d.PageURL("personnes", d.PeopleCursor)
	var (
		dead    notifclient.DeadLetters
		people  notifclient.Users
		scanned []notifclient.User
		p       fanout
	)
	p.do(func() (err error) {
		dead, err = h.Backend.Notifications.DeadLetters(ctx, adminDeadPageSize, d.DeadCursor)
		return err
	})
	p.do(func() (err error) {
		people, err = h.Backend.Notifications.Users(ctx, adminPeoplePageSize, d.PeopleCursor)
		if serviceNotFound(err) {
			d.PeopleUnavailable = true
			return nil
		}
		return err
	})
	p.do(func() error {
		cursor := ""
		for range adminPeopleScanPages {
			page, err := h.Backend.Notifications.Users(ctx, adminPeopleScanSize, cursor)
			if serviceNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			scanned = append(scanned, page.Items...)
			if cursor = page.NextCursor; cursor == "" {
				return nil
			}
		}
		d.Capped = true
		return nil
	})
	if err := p.wait(); err != nil {
		if _, bad := problemWithStatus(err, http.StatusUnprocessableEntity); bad && (d.DeadCursor != "" || d.PeopleCursor != "") {
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
	d.DeadNext, d.People, d.PeopleNext = dead.NextCursor, people.Items, people.NextCursor
	d.Orgs, d.Scanned = organisations(scanned), len(scanned)
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
