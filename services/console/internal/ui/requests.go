package ui

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

const unreadKey = "console.unread"

// startUnread reads the person's unread notifications for the header while the page's own
// calls run; render collects it. The page still shows when the notifications service does
// not answer.
func (h *handlers) startUnread(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	count := make(chan int64, 1)
	go func() {
		defer cancel()
		in, _ := h.Backend.Notifications.Inbox(ctx, 1, "")
		count <- in.UnreadCount // 0 when the call failed
	}()
	c.Set(unreadKey, count)
}

// unread is what startUnread read, if it was started.
func unread(c *gin.Context) int64 {
	v, ok := c.Get(unreadKey)
	if !ok {
		return 0
	}
	return <-v.(chan int64)
}

// queueTab is one tab of the moderators' queue: a filter of the requests list.
type queueTab struct {
	Key, Label, Help string
	filter           func(me string) url.Values
}

var queueTabs = []queueTab{
	{"a-prendre", "À prendre en charge", "Vérifiées, en attente d'un modérateur.",
		func(string) url.Values { return url.Values{"status": {string(request.StatusAwaitingTriage)}} }},
	{"miennes", "Mes demandes en instruction", "Prises en charge par vous, en attente de votre décision.",
		func(me string) url.Values {
			return url.Values{"assignee": {me}, "status": {string(request.StatusInReview)}}
		}},
	{"attente-partenaire", "En attente du partenaire", "Une question attend la réponse du partenaire.",
		func(string) url.Values { return url.Values{"status": {string(request.StatusAwaitingPartner)}} }},
	{"en-retard", "En retard", "Attendent depuis plus longtemps que le délai de relance.",
		func(string) url.Values { return url.Values{"overdue": {"true"}} }},
}

// queueCount is a tab with its number of requests.
type queueCount struct {
	queueTab
	Count int
	Known bool // the intake counted (it may not, while it is older than the console)
}

// queueCounts counts every tab, in parallel.
func (h *handlers) queueCounts(ctx context.Context, me string) ([]queueCount, error) {
	out := make([]queueCount, len(queueTabs))
	g, ctx := errgroup.WithContext(ctx)
	for i, tab := range queueTabs {
		g.Go(func() error {
			f := tab.filter(me)
			f.Set("limit", "1")
			p, err := h.Backend.Intake.Requests(ctx, f)
			out[i] = queueCount{queueTab: tab}
			if p.Total != nil {
				out[i].Count, out[i].Known = *p.Total, true
			}
			return err
		})
	}
	return out, g.Wait()
}

type dashboardData struct {
	Person        auth.Principal
	Requests      []request.Request // the partner's organisation's latest, or the moderator's own
	AwaitingReply int               // the partner's requests waiting for their answer
	Queue         []queueCount
	Inbox         notifclient.Inbox
	Now           time.Time
}

// dashboard is the home page: a partner's requests and what waits for them, or a
// moderator's queue; the latest notifications for everyone.
func (h *handlers) dashboard(c *gin.Context) {
	ctx := c.Request.Context()
	p := person(c)
	d := dashboardData{Person: p, Now: h.Now()}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		d.Inbox, err = h.Backend.Notifications.Inbox(gctx, 5, "")
		return err
	})
	switch p.Role {
	case auth.RolePartner:
		g.Go(func() error {
			page, err := h.Backend.Intake.Requests(gctx, url.Values{"limit": {"10"}})
			d.Requests = page.Items
			return err
		})
		g.Go(func() error {
			page, err := h.Backend.Intake.Requests(gctx, url.Values{"limit": {"1"}, "status": {string(request.StatusAwaitingPartner)}})
			if page.Total != nil {
				d.AwaitingReply = *page.Total
			}
			return err
		})
	case auth.RoleModerator, auth.RoleAdmin:
		g.Go(func() (err error) {
			d.Queue, err = h.queueCounts(gctx, p.Subject)
			return err
		})
		g.Go(func() error {
			page, err := h.Backend.Intake.Requests(gctx, url.Values{"limit": {"10"}, "assignee": {p.Subject}})
			d.Requests = page.Items
			return err
		})
	}
	if err := g.Wait(); err != nil {
		h.backendFailed(c, err)
		return
	}
	h.render(c, http.StatusOK, "dashboard", view{Title: "Tableau de bord", Section: "accueil", Unread: d.Inbox.UnreadCount, Data: d})
}

// listFilter is the request list's filter form.
type listFilter struct {
	Status, Kind, CodeRome, Org, Assignee, Q, Cursor string
}

type listData struct {
	Filter     listFilter
	Errors     fieldErrors
	Requests   []request.Request
	Total      *int
	NextURL    string
	Staff      bool
	Now        time.Time
	FirstURL   string
	IsNextPage bool
}

// requestList lists the requests the person may see, with filters and pages.
func (h *handlers) requestList(c *gin.Context) {
	p := person(c)
	f := listFilter{
		Status: c.Query("status"), Kind: c.Query("kind"), CodeRome: strings.ToUpper(strings.TrimSpace(c.Query("codeRome"))),
		Org: strings.TrimSpace(c.Query("org")), Assignee: strings.TrimSpace(c.Query("assignee")),
		Q: strings.TrimSpace(c.Query("q")), Cursor: c.Query("cursor"),
	}
	d := listData{Filter: f, Errors: fieldErrors{}, Staff: p.Role != auth.RolePartner, Now: h.Now(), IsNextPage: f.Cursor != ""}
	if f.CodeRome != "" && !request.CodeRomePattern.MatchString(f.CodeRome) {
		d.Errors.add("codeRome", "Saisissez un code ROME : une lettre de A à N et quatre chiffres, par exemple M1805.")
	}
	if d.Errors.Any() {
		h.render(c, http.StatusUnprocessableEntity, "requests", view{Title: "Demandes", Section: "demandes", Data: d})
		return
	}
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "kind": f.Kind, "codeRome": f.CodeRome, "q": f.Q, "cursor": f.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if d.Staff {
		for k, v := range map[string]string{"org": f.Org, "assignee": f.Assignee} {
			if v != "" {
				q.Set(k, v)
			}
		}
	}
	q.Set("limit", "25")
	page, err := h.Backend.Intake.Requests(c, q)
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusUnprocessableEntity {
		d.Errors = fromProblem(e, func(field string) string { return field })
		h.render(c, http.StatusUnprocessableEntity, "requests", view{Title: "Demandes", Section: "demandes", Data: d})
		return
	}
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	d.Requests, d.Total = page.Items, page.Total
	if page.NextCursor != "" {
		q.Del("limit")
		q.Set("cursor", page.NextCursor)
		d.NextURL = "/demandes?" + q.Encode()
	}
	q.Del("cursor")
	d.FirstURL = "/demandes?" + q.Encode()
	h.render(c, http.StatusOK, "requests", view{Title: "Demandes", Section: "demandes", Data: d})
}

type moderationData struct {
	Tabs     []queueCount
	Current  queueCount
	Requests []request.Request
	NextURL  string
	Now      time.Time
	// Workload is the team's share of the open requests; nil when the intake could not
	// say (the queue still shows).
	Workload *backend.Workload
	// Names are the moderators' names by subject (for their delegates).
	Names map[string]string
}

// moderationQueue is the moderators' queue: one tab per kind of wait, with counts.
func (h *handlers) moderationQueue(c *gin.Context) {
	me := person(c).Subject
	ctx := c.Request.Context()
	d := moderationData{Now: h.Now()}
	key := c.DefaultQuery("onglet", queueTabs[0].Key)
	var page backend.RequestPage
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		d.Tabs, err = h.queueCounts(gctx, me)
		return err
	})
	if c.GetHeader("HX-Request") != "true" { // the 30 s refresh replaces the queue alone
		g.Go(func() error {
			w, err := h.Backend.Intake.Workload(gctx)
			if err != nil {
				slog.WarnContext(gctx, "workload not read", "error", err)
				return nil
			}
			d.Workload, d.Names = &w, map[string]string{}
			for _, m := range w.Moderators {
				d.Names[m.Sub] = m.Name
			}
			return nil
		})
	}
	found := false
	for _, tab := range queueTabs {
		if tab.Key != key {
			continue
		}
		found = true
		g.Go(func() (err error) {
			f := tab.filter(me)
			f.Set("limit", "50")
			if cur := c.Query("cursor"); cur != "" {
				f.Set("cursor", cur)
			}
			page, err = h.Backend.Intake.Requests(gctx, f)
			return err
		})
	}
	if !found {
		h.notFound(c)
		return
	}
	if err := g.Wait(); err != nil {
		h.backendFailed(c, err)
		return
	}
	for _, t := range d.Tabs {
		if t.Key == key {
			d.Current = t
		}
	}
	d.Requests = page.Items
	if page.NextCursor != "" {
		d.NextURL = "/moderation?" + url.Values{"onglet": {key}, "cursor": {page.NextCursor}}.Encode()
	}
	h.render(c, http.StatusOK, "moderation", view{Title: "Modération – " + d.Current.Label, Section: "moderation", Data: d})
}
