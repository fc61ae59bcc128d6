package ui

// The partner's request form: GET/POST /demandes/nouvelle and its preview (POST
// /demandes/nouvelle/apercu). The form itself is in request_form.go; its editor, shared with
// the amendment of a request's operations, in form_editor.go.

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/workflows/request"
)

const (
	newRequestURL = "/demandes/nouvelle"
	newRequestID  = "demande" // the form's id, the htmx target of its re-renders
)

var newRequestEditor = &formEditor{Page: "request_new", Title: "Nouvelle demande", Section: "nouvelle",
	URL: newRequestURL, PreviewURL: newRequestURL + "/apercu", FormID: newRequestID,
	Purpose: "de soumettre la demande", PreviewTitle: "Aperçu avant soumission",
	unsaved: "La demande n'a pas été enregistrée : la plateforme ne répond pas pour le moment. Réessayez dans un instant ; " +
		"tout ce que vous avez saisi est conservé, et un nouvel envoi ne crée pas de doublon."}

// newRequest shows an empty form; ?type= and ?codeRome= prefill it (a fiche's page links
// here to propose a change to it).
func (h *handlers) newRequest(c *gin.Context) {
	f := newRequestForm()
	if k := request.Kind(c.Query("type")); slices.Contains(request.Kinds, k) {
		f.Kind = k
	}
	if code := normCodeRome(c.Query("codeRome")); request.CodeRomePattern.MatchString(code) {
		f.CodeRome = code
		if f.Kind == "" {
			f.Kind = request.KindModifyFiche
		}
	}
	h.showRequestForm(c, f, formState{status: http.StatusOK})
}

// newRequestPost handles every button of the form: only "Soumettre la demande" submits;
// the others change the form and show it again.
func (h *handlers) newRequestPost(c *gin.Context) {
	f, action := parseRequestForm(reqPostedForm(c))
	st := f.applyButton(action)
	if action == "submit" {
		h.submitRequest(c, f)
		return
	}
	h.showRequestForm(c, f, st)
}

// newRequestPreview refreshes the preview as the partner edits (htmx); without htmx it
// shows the whole form with its preview.
func (h *handlers) newRequestPreview(c *gin.Context) {
	f, _ := parseRequestForm(reqPostedForm(c))
	h.previewEditor(c, newRequestEditor, f)
}

// submitRequest checks the form, then files the request with the intake.
func (h *handlers) submitRequest(c *gin.Context, f *requestForm) {
	h.sendEditor(c, newRequestEditor, f, func(ctx context.Context) (string, error) {
		created, err := h.Backend.Intake.Submit(ctx, f.submission(), f.Key)
		return "/demandes/" + url.PathEscape(created.ID) + "?message=soumise", err
	})
}

// showRequestForm shows the new request's form.
func (h *handlers) showRequestForm(c *gin.Context, f *requestForm, st formState) {
	h.showEditor(c, newRequestEditor, f, st)
}
