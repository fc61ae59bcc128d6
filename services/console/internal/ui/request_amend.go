package ui

// The partner amends the operations of a request under review: GET/POST
// /demandes/{id}/operations and its live preview (POST /demandes/{id}/operations/apercu).
// The editor is the request form's (request_form.go, form_editor.go: every kind of
// operation, the pickers, the preview, adding and removing operations, with or without
// JavaScript), prefilled with the request's operations, each keeping its id (sent back
// in ops.<i>.id) so that its findings and decisions stay attached. The request's kind,
// code ROME, title and justification are shown, not edited: the intake amends the
// operations only (PATCH /v1/requests/{id}/operations).

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// amendFormID is the amendment form's id, the htmx target of its re-renders.
const amendFormID = "modification"

func requestURL(id string) string { return "/demandes/" + url.PathEscape(id) }

// amendEditor is the editor of request r's operations.
func (h *handlers) amendEditor(r *request.Request) *formEditor {
	u := requestURL(r.ID) + "/operations"
	return &formEditor{Page: "request_amend", Title: "Modifier les opérations de « " + truncate(80, r.Title) + " »", Section: "demandes",
		URL: u, PreviewURL: u + "/apercu", FormID: amendFormID,
		Purpose: "d'enregistrer les opérations", PreviewTitle: "Aperçu avant enregistrement", Request: r,
		unsaved: "Les opérations n'ont pas été enregistrées : la plateforme ne répond pas pour le moment. Réessayez dans un instant ; " +
			"tout ce que vous avez saisi est conservé, et un nouvel envoi ne les modifie qu'une fois.",
		conflict: func(ctx context.Context, e *backend.Error) string { return h.amendConflict(ctx, r, e) },
	}
}

// amendForm is the form of request r's current operations, their ids kept.
func amendForm(r request.Request) *requestForm {
	f := newRequestForm()
	fixRequestFields(f, r)
	for i, op := range r.Operations {
		o := opFormFrom(op.Operation)
		if i == 0 && f.creates() && op.Op == refclient.OpCreateFiche {
			f.Fiche = o
			continue
		}
		f.Ops = append(f.Ops, o)
	}
	return f
}

// fixRequestFields gives the form the request's own fields, whatever was posted: the
// amendment changes the operations only.
func fixRequestFields(f *requestForm, r request.Request) {
	f.Kind, f.CodeRome, f.Title, f.Justification = r.Kind, r.CodeRome, r.Title, r.Justification
	f.Top = map[string]string{}
}

// amendedRequest reads the request whose operations the partner amends; false when the
// page has answered already (no such request, or another organisation's: 404).
func (h *handlers) amendedRequest(c *gin.Context) (*request.Request, bool) {
	r, err := h.Backend.Intake.Request(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.backendFailed(c, err)
		return nil, false
	}
	if r.Org != person(c).Org {
		h.notFound(c)
		return nil, false
	}
	return &r, true
}

// amendOperations shows the request's operations to amend, or why they cannot be now.
func (h *handlers) amendOperations(c *gin.Context) {
	r, ok := h.amendedRequest(c)
	if !ok {
		return
	}
	if !allowedActions(person(c), *r).Amend {
		h.errorPage(c, http.StatusConflict, pageError{
			Detail: fmt.Sprintf("Les opérations de cette demande ne peuvent pas être modifiées maintenant : elle est « %s » ; %s",
				statusLabels[r.Status], amendBlocked(r.Status)),
			Back: requestURL(r.ID), BackLabel: "Retour à la demande"})
		return
	}
	h.showEditor(c, h.amendEditor(r), amendForm(*r), formState{status: http.StatusOK})
}

// amendOperationsPost handles every button of the form: only "Enregistrer les opérations"
// sends the operations to the intake; the others change the form and show it again.
func (h *handlers) amendOperationsPost(c *gin.Context) {
	r, ok := h.amendedRequest(c)
	if !ok {
		return
	}
	f, action := parseRequestForm(reqPostedForm(c))
	fixRequestFields(f, *r)
	e := h.amendEditor(r)
	st := f.applyButton(action)
	if action == "submit" {
		h.sendEditor(c, e, f, func(ctx context.Context) (string, error) {
			_, err := h.Backend.Intake.Amend(ctx, r.ID, f.Key, f.operations())
			return requestURL(r.ID) + "?message=operations", err
		})
		return
	}
	if !allowedActions(person(c), *r).Amend && st.alert == "" {
		// The request moved on while the partner was editing: say so now, not at the end.
		st.status, st.alert = http.StatusConflict, amendConflictText(r.Status)
	}
	h.showEditor(c, e, f, st)
}

// amendOperationsPreview refreshes the preview as the partner edits (htmx).
func (h *handlers) amendOperationsPreview(c *gin.Context) {
	r, ok := h.amendedRequest(c)
	if !ok {
		return
	}
	f, _ := parseRequestForm(reqPostedForm(c))
	fixRequestFields(f, *r)
	h.previewEditor(c, h.amendEditor(r), f)
}

// amendConflict words the intake's 409 to the amendment with the request's current status
// (which the page then shows).
func (h *handlers) amendConflict(ctx context.Context, r *request.Request, e *backend.Error) string {
	var current struct {
		Status request.Status `json:"currentStatus"`
	}
	_ = e.Extension(&current)
	if current.Status == "" {
		if fresh, err := h.Backend.Intake.Request(ctx, r.ID); err == nil {
			current.Status = fresh.Status
		}
	}
	if current.Status != "" {
		r.Status = current.Status
	}
	return amendConflictText(r.Status)
}

// amendConflictText says that the operations were not saved, the request having changed,
// and what its status allows now.
func amendConflictText(now request.Status) string {
	return fmt.Sprintf("Les opérations n'ont pas été enregistrées : la demande a changé entre-temps et elle est maintenant « %s » ; %s "+
		"Ce que vous avez saisi est conservé ci-dessous.", statusLabels[now], amendBlocked(now))
}

// amendBlocked says why a request of this status takes no amendment of its operations
// (or, for the statuses that take one, what to do after a conflict).
func amendBlocked(s request.Status) string {
	switch {
	case s == request.StatusInReview || s == request.StatusAwaitingPartner:
		return "consultez sa page pour voir ce qui a changé, puis enregistrez à nouveau vos opérations."
	case s.Closed():
		return "une demande close ne change plus. Pour proposer d'autres changements, déposez une nouvelle demande."
	case s == request.StatusPublishing:
		return "l'équipe ROME a rendu sa décision, dont la publication est en cours : ses opérations ne changent plus."
	default:
		return fmt.Sprintf("ses opérations se modifient pendant son instruction par l'équipe ROME (« %s » ou « %s »), qui ne l'a pas encore prise en charge. "+
			"Si elle ne convient plus, vous pouvez la retirer depuis sa page et en déposer une autre.",
			statusLabels[request.StatusInReview], statusLabels[request.StatusAwaitingPartner])
	}
}
