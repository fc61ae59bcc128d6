package ui

// The editor of operations shared by the new request (request_new.go) and the amendment of a
// request's operations (request_amend.go): the form's buttons, its rendering, its live
// preview and its sending. The views it renders are in form_view.go.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// formEditor is a page that edits operations with the request form: the new request, or
// the amendment of a request's operations (request_amend.go). Its handlers share the
// form's buttons (applyButton), its rendering (showEditor), its live preview
// (previewEditor) and its sending (sendEditor).
type formEditor struct {
	Page, Title, Section string // the page's template, title and navigation entry
	URL                  string // where every button of the form posts
	PreviewURL           string // the live preview (htmx)
	FormID               string // the form's id: the htmx target of its re-renders
	Purpose              string // what the submit button does ("de soumettre la demande"), for the error summary
	PreviewTitle         string
	// Request is the request whose operations are amended (nil for a new request): its kind,
	// code ROME, title and justification are not the form's to change.
	Request *request.Request
	// unsaved is the alert when the platform did not answer the submission.
	unsaved string
	// conflict words a 409 answer to the submission (nil: a form that expects none).
	conflict func(ctx context.Context, e *backend.Error) string
}

// applyButton applies the button pressed (action) other than the submit button, after the
// search results picked, and says how to show the form again.
func (f *requestForm) applyButton(action string) formState {
	st := formState{status: http.StatusOK}
	st.focus, st.live = f.applyPicks()
	switch {
	case action == "submit":
	case action == "preview":
		f.Previewed, st.focus = true, "apercu-titre"
	case strings.HasPrefix(action, "search:"):
		st.searchFocus = strings.TrimPrefix(action, "search:")
	case action == "fiche":
		st.ficheAsked = true
	default:
		if focus, live, refused := f.applyAction(action); focus != "" || refused != "" {
			st.focus, st.live, st.alert = focus, live, refused
		}
	}
	return st
}

// previewEditor answers an editor's live preview (htmx: the preview alone); without htmx
// it shows the whole form with its preview.
func (h *handlers) previewEditor(c *gin.Context, e *formEditor, f *requestForm) {
	f.applyPicks()
	f.Previewed = true
	if reqHTMX(c) {
		h.showEditor(c, e, f, formState{status: http.StatusOK, previewOnly: true})
		return
	}
	h.showEditor(c, e, f, formState{status: http.StatusOK, focus: "apercu-titre"})
}

// sendEditor checks an editor's form, then sends it (send answers where to go next): the
// service's refusal comes back next to the fields (422) or explained (409), with
// everything typed; the platform out of reach keeps it all too.
func (h *handlers) sendEditor(c *gin.Context, e *formEditor, f *requestForm, send func(ctx context.Context) (string, error)) {
	ctx := c.Request.Context()
	st := formState{status: http.StatusUnprocessableEntity, focus: "erreurs", errors: f.validate()}
	var missing bool
	st.fiche, st.ficheNote, missing = h.loadFormFiche(ctx, f)
	st.ficheLoaded = true
	if missing && f.Kind == request.KindModifyFiche && e.Request == nil {
		st.errors.add("codeRome", st.ficheNote)
	}
	if st.errors.Any() {
		h.showEditor(c, e, f, st)
		return
	}
	target, err := send(ctx)
	p, isProblem := backend.AsError(err)
	switch {
	case err == nil:
	case isProblem && p.Status == http.StatusUnprocessableEntity:
		st.errors = fromProblem(p, f.formField)
		h.showEditor(c, e, f, st)
		return
	case isProblem && p.Status == http.StatusConflict && e.conflict != nil:
		st = formState{status: http.StatusConflict, fiche: st.fiche, ficheNote: st.ficheNote, ficheLoaded: true, focus: "alerte",
			alert: e.conflict(ctx, p)}
		h.showEditor(c, e, f, st)
		return
	case isProblem && (p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden || p.Status == http.StatusNotFound):
		h.backendFailed(c, err)
		return
	default:
		slog.WarnContext(ctx, "form not sent", "page", e.Page, "error", err)
		st = formState{status: http.StatusServiceUnavailable, fiche: st.fiche, ficheNote: st.ficheNote, ficheLoaded: true, focus: "alerte",
			alert: e.unsaved}
		if errors.Is(err, context.DeadlineExceeded) {
			st.status = http.StatusGatewayTimeout
		}
		h.showEditor(c, e, f, st)
		return
	}
	if reqHTMX(c) {
		c.Header("HX-Redirect", target)
		c.Status(http.StatusOK)
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

func reqHTMX(c *gin.Context) bool { return c.GetHeader("HX-Request") == "true" }

func reqPostedForm(c *gin.Context) url.Values {
	_ = c.Request.ParseForm()
	return c.Request.PostForm
}

// formState is how a form is shown again.
type formState struct {
	status             int
	errors             fieldErrors
	focus, live, alert string
	searchFocus        string // the picker whose search button was pressed
	previewOnly        bool   // the htmx refresh of the preview
	ficheAsked         bool   // "Charger la fiche" (or a new Code ROME, with htmx)
	fiche              *backend.Fiche
	ficheNote          string
	ficheLoaded        bool
}

// showEditor loads what an editor's form shows (the fiche to modify, the searches, the
// preview) and renders it.
func (h *handlers) showEditor(c *gin.Context, e *formEditor, f *requestForm, st formState) {
	ctx := c.Request.Context()
	if st.errors == nil {
		st.errors = fieldErrors{}
	}
	if e.Request != nil {
		// An amendment does not show the request's own fields: their errors go to the summary.
		for _, name := range []string{"kind", "codeRome", "title", "justification"} {
			if msg, ok := st.errors[name]; ok {
				delete(st.errors, name)
				st.errors.add("", f.fieldLabel(name)+" : "+msg)
			}
		}
	}
	if !st.ficheLoaded && !st.previewOnly {
		st.fiche, st.ficheNote, _ = h.loadFormFiche(ctx, f)
	}
	x := &opBlockCtx{Kind: f.Kind, KindFixed: e.Request != nil, Errors: st.errors, Fiche: st.fiche, Focus: st.focus,
		FormURL: e.URL, FormID: e.FormID, Searches: map[string]*pickerView{}}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		preview *validationView
	)
	if f.Previewed {
		wg.Go(func() { preview = h.previewForm(ctx, f) })
	}
	if !st.previewOnly {
		for _, p := range x.pickers(f) {
			wg.Go(func() {
				pv := h.searchPicker(ctx, p.name, p.kind, p.q)
				mu.Lock()
				x.Searches[p.name] = pv
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if name := st.searchFocus; name != "" {
		x.Focus = formID(name) + "-q"
		if pv := x.Searches[name]; pv != nil {
			if len(pv.Hits) > 0 {
				x.Focus = pv.Hits[0].ID
			}
			st.live = resultsAnnouncement(pv)
		}
	}
	if st.focus == "apercu-titre" && preview != nil {
		st.live = orRaw(preview.Status, orRaw(preview.Message, preview.Err))
	}
	if st.ficheAsked && st.live == "" {
		st.live = st.ficheNote
		if st.fiche != nil {
			st.live = fmt.Sprintf("Fiche %s chargée : %s.", st.fiche.CodeRome, st.fiche.Libelle)
		}
	}
	page := x.page(f, preview, st)
	page.Editor = e
	if !f.creates() && e.Request != nil {
		page.Create = opBlock{} // an amendment shows only what its request has
	}
	// htmx swaps 409 and 422 answers too (the layout's htmx-config): the form shows its errors.
	h.render(c, st.status, e.Page, view{Title: e.Title, Section: e.Section, Data: page})
}
