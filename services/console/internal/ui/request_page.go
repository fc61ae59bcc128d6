package ui

import (
	"context"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// allowed are the actions the person may take on the request now. They mirror the
// workflow's rules (workflows/request/lifecycle/updates.go), which stay authoritative: a
// button shown by mistake gets the workflow's refusal, explained.
type allowed struct {
	Assign, Reassign, Ask, Answer, Amend, Decide, Withdraw, Message bool
}

func allowedActions(p auth.Principal, r request.Request) allowed {
	staff := p.Role == auth.RoleModerator || p.Role == auth.RoleAdmin
	partner := p.Role == auth.RolePartner && p.Org == r.Org
	in := func(statuses ...request.Status) bool { return slices.Contains(statuses, r.Status) }
	return allowed{
		Assign: staff && (r.Status == request.StatusAwaitingTriage ||
			(in(request.StatusInReview, request.StatusAwaitingPartner) && r.Assignee != p.Subject)),
		// The ROME team hands a request over to one of its own.
		Reassign: staff && in(request.StatusAwaitingTriage, request.StatusInReview, request.StatusAwaitingPartner),
		Ask:      staff && r.Status == request.StatusInReview,
		Answer:   partner && r.Status == request.StatusAwaitingPartner,
		Amend:    partner && in(request.StatusInReview, request.StatusAwaitingPartner),
		Decide:   staff && r.Status == request.StatusInReview && r.SubmittedBy.Sub != p.Subject,
		Withdraw: partner && in(request.StatusSubmitted, request.StatusChecking, request.StatusAwaitingTriage,
			request.StatusInReview, request.StatusAwaitingPartner),
		Message: (staff || partner) && !r.Status.Closed(),
	}
}

// opView is an operation with what concerns it: findings, preview result, decision form.
type opView struct {
	request.RequestOperation
	Number   int
	Details  []detail
	Findings []request.Finding
	Result   *refclient.Result
	// The decision form's values, kept when the form comes back with errors.
	Choice, Rationale string
}

// pageForm is what the person typed in the request page's forms, kept when one comes
// back with an error.
type pageForm struct {
	Question, Answer, Message, WithdrawReason, Moderator string
	Key                                                  string // the idempotency key of every form on the page
}

type requestPageData struct {
	R            request.Request
	Ops          []opView
	Findings     []request.Finding // about the whole request
	Timeline     []backend.HistoryItem
	Messages     []backend.HistoryItem
	Preview      *refclient.Validation
	PreviewError string
	OpenQuestion *request.Question
	Can          allowed
	Form         pageForm
	Errors       fieldErrors
	// Refreshing tells the page to refresh its state while the workflow works on its own.
	Refreshing bool
	Submitter  bool // the signed-in person submitted it
	TemporalUI string
	// PublishedFiche is the fiche the publication changed: the request's own, or the one
	// it created.
	PublishedFiche string
	// ShowImpact shows the ROME team what the operations touch beyond the fiche (the
	// preview's impacts), before they decide.
	ShowImpact bool
	// Followers counts the people who follow each fiche the impacts name; FollowersKnown
	// is false when the notifications service did not answer (the section says so).
	Followers      map[string]int
	FollowersKnown bool
}

// loadRequestPage reads everything the request page shows. The request must be read first
// (a 404 ends there); the history and the preview come in parallel.
func (h *handlers) loadRequestPage(c *gin.Context, id string) (*requestPageData, error) {
	ctx := c.Request.Context()
	r, err := h.Backend.Intake.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	p := person(c)
	d := &requestPageData{R: r, Can: allowedActions(p, r), Errors: fieldErrors{}, Form: pageForm{Key: newFormKey()},
		Submitter: r.SubmittedBy.Sub == p.Subject, TemporalUI: h.TemporalUI}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		d.Timeline, err = h.Backend.Intake.History(gctx, id)
		return err
	})
	d.PublishedFiche = r.CodeRome
	if r.PublishedVersion != nil && r.CodeRome == "" && r.ChangeSetID != "" {
		g.Go(func() error {
			d.PublishedFiche = createdFiche(gctx, h.Backend.Referential, r.ChangeSetID)
			return nil
		})
	}
	if !r.Status.Closed() && len(r.Operations) > 0 {
		g.Go(func() error {
			v, err := h.Backend.Intake.Preview(gctx, id)
			if err != nil {
				// The preview is a help, not the page: say why it is missing.
				d.PreviewError = "L'aperçu de la fiche après la demande n'est pas disponible pour le moment."
				if e, ok := backend.AsError(err); ok && e.Code == "nothing_to_preview" {
					d.PreviewError = "Toutes les opérations de cette demande ont été refusées : rien à prévisualiser."
				}
				return nil
			}
			d.Preview = v
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	d.arrange()
	d.ShowImpact = (p.Role == auth.RoleModerator || p.Role == auth.RoleAdmin) && slices.ContainsFunc(d.Ops, func(o opView) bool {
		return o.Result != nil && o.Result.Impact != nil
	})
	if d.ShowImpact {
		d.countFollowers(ctx, h.Backend.Notifications)
	}
	return d, nil
}

// countFollowers counts the people who follow the fiches the preview's impacts name. The
// section shows the rest of the impact without the count when the notifications service
// cannot give it.
func (d *requestPageData) countFollowers(ctx context.Context, notifications *backend.Notifications) {
	counts, err := notifications.FollowerCounts(ctx, request.ImpactedFiches(d.Preview.Results))
	if err != nil {
		return
	}
	d.Followers, d.FollowersKnown = make(map[string]int, len(counts)), true
	for _, c := range counts {
		d.Followers[c.CodeRome] = c.Followers
	}
}

// workflowFindings word the request workflow's own findings; the others are the
// referential's reasons (refusalMessages).
var workflowFindings = map[string]string{
	request.FindingOverlappingRequest:       "une autre demande en cours touche le même élément de la fiche",
	request.FindingOperationsRequired:       "la demande n'a aucune opération",
	request.FindingPublicationConflict:      "cette opération acceptée ne s'applique plus au référentiel publié entre-temps : amendez-la ou refusez-la",
	request.FindingPublicationRefused:       "le référentiel a refusé la publication de ces opérations",
	request.FindingReleaseConflict:          "cette opération acceptée ne s'applique pas avec les autres demandes de sa release : amendez-la ou refusez-la",
	request.FindingTeamsUnavailable:         "le canal Teams de la demande n'a pas pu être créé ; la demande continue sans lui",
	request.FindingTeamsRepliesUnavailable:  "les réponses écrites dans Teams ne reviendront pas dans la demande",
	request.FindingTeamsMemberNotAdded:      "une personne n'a pas pu être ajoutée au canal Teams privé",
	request.FindingImpactMobilites:          "des mobilités d'autres fiches mènent à la fiche modifiée (voir « Impact des opérations »)",
	request.FindingImpactOrphanAppellations: "des appellations resteraient sans fiche ni appellation de remplacement",
	request.FindingImpactOrphanItems:        "un élément retiré ne serait plus rattaché à aucune fiche",
	request.FindingImpactSubscribers:        "des abonnements webhook de consommateurs seront notifiés de ce changement",
	request.FindingImpactFollowers:          "des personnes suivent une fiche que cette opération modifie",
}

// findingText words a finding in French, keeping the service's own detail after it.
func findingText(f request.Finding) string {
	msg, ok := workflowFindings[f.Code]
	if !ok {
		msg, ok = refusalMessages[f.Code]
	}
	if !ok {
		return f.Message
	}
	if f.Message != "" {
		msg += " (" + f.Message + ")"
	}
	return reqCapitalize(msg) + "."
}

// createdFiche is the code ROME of the fiche a published change set created, empty when
// it cannot be read (the page then shows the version without the link).
func createdFiche(ctx context.Context, ref *backend.Referential, changeSetID string) string {
	p, err := ref.ChangeSet(ctx, changeSetID)
	if err != nil {
		return ""
	}
	for _, ch := range p.Changes {
		if ch.Entity == "fiche" && ch.Action == "created" {
			return ch.CodeRome
		}
	}
	return ""
}

// arrange puts each finding and preview result next to its operation, and picks the
// messages and the open question out of the request's history.
func (d *requestPageData) arrange() {
	r := d.R
	results := map[string]*refclient.Result{}
	if d.Preview != nil {
		for i := range d.Preview.Results {
			results[d.Preview.Results[i].OperationID] = &d.Preview.Results[i]
		}
	}
	byOp := map[string][]request.Finding{}
	for _, f := range r.Findings {
		if f.OperationID != "" && slices.ContainsFunc(r.Operations, func(o request.RequestOperation) bool { return o.ID == f.OperationID }) {
			byOp[f.OperationID] = append(byOp[f.OperationID], f)
		} else {
			d.Findings = append(d.Findings, f)
		}
	}
	for i, op := range r.Operations {
		v := opView{RequestOperation: op, Number: i + 1, Details: describeOp(op.Operation), Findings: byOp[op.ID], Result: results[op.ID], Choice: request.DecisionAccepted}
		d.Ops = append(d.Ops, v)
	}
	for _, e := range d.Timeline {
		if e.Type == request.EventMessagePosted || e.Type == request.EventTeamsReply {
			d.Messages = append(d.Messages, e)
		}
	}
	for i := range r.Questions {
		if r.Questions[i].Answer == nil {
			d.OpenQuestion = &r.Questions[i]
		}
	}
	switch r.Status {
	case request.StatusSubmitted, request.StatusChecking, request.StatusPublishing:
		d.Refreshing = true
	}
}

// requestPage shows a request to the people who may see it (the intake decides: a
// partner of another organisation gets its 404).
func (h *handlers) requestPage(c *gin.Context) {
	d, err := h.loadRequestPage(c, c.Param("id"))
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	h.renderRequest(c, http.StatusOK, d, "")
}

func (h *handlers) renderRequest(c *gin.Context, status int, d *requestPageData, alert string) {
	h.render(c, status, "request", view{Title: "Demande « " + truncate(80, d.R.Title) + " »", Section: "demandes",
		Alert: alert, Data: d})
}

// requestStatusFragment is the request's status block, which the page refreshes while the
// workflow checks or publishes the request on its own (htmx); without JavaScript the
// page offers a link to reload.
func (h *handlers) requestStatusFragment(c *gin.Context) {
	if c.GetHeader("HX-Request") != "true" {
		c.Redirect(http.StatusSeeOther, "/demandes/"+c.Param("id"))
		return
	}
	r, err := h.Backend.Intake.Request(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	d := &requestPageData{R: r}
	d.arrange()
	if !d.Refreshing {
		// The state changed: reload the whole page, whose actions changed too.
		c.Header("HX-Refresh", "true")
	}
	c.Request.Header.Set("HX-Target", "statut")
	h.render(c, http.StatusOK, "request", view{Data: d})
}
