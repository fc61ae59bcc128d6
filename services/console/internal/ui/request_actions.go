package ui

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// maxText bounds what a person types in a question, answer, message or reason (the
// intake's own limit is the authority; this catches the obvious before a round trip).
const maxText = 10000

// requestAction is one of the request page's forms: it reads its fields into the form,
// checks them, and calls the intake. Everything else (redirect, errors next to the fields,
// a 409 explained) is the same for all of them.
type requestAction struct {
	message string // the confirmation after the redirect (confirmations)
	anchor  string // where the page scrolls after it
	read    func(c *gin.Context, f *pageForm, errs fieldErrors)
	call    func(h *handlers, c *gin.Context, id, key string, f pageForm) error
	// field maps the intake's field names of a 422 to the form's.
	field func(string) string
}

func (h *handlers) runRequestAction(c *gin.Context, a requestAction) {
	id := c.Param("id")
	f := pageForm{Key: formKey(c.PostForm("cle"))}
	errs := fieldErrors{}
	a.read(c, &f, errs)
	if !errs.Any() {
		err := a.call(h, c, id, f.Key, f)
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/demandes/"+id+"?message="+a.message+a.anchor)
			return
		}
		e, ok := backend.AsError(err)
		switch {
		case ok && e.Status == http.StatusUnprocessableEntity:
			errs = fromProblem(e, a.field)
		case ok && e.Status == http.StatusConflict:
			h.requestConflict(c, id, f, e)
			return
		default:
			h.backendFailed(c, err)
			return
		}
	}
	d, err := h.loadRequestPage(c, id)
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	d.Form, d.Errors = f, errs
	h.renderRequest(c, http.StatusUnprocessableEntity, d, "")
}

// requestConflict shows the request as it is now, says what changed, and keeps what the
// person typed (console.md: a 409 says what changed and reloads the current state).
func (h *handlers) requestConflict(c *gin.Context, id string, f pageForm, e *backend.Error) {
	d, err := h.loadRequestPage(c, id)
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	d.Form = f
	var current struct {
		Status request.Status `json:"currentStatus"`
	}
	_ = e.Extension(&current)
	now := d.R.Status
	if current.Status != "" {
		now = current.Status
	}
	alert := fmt.Sprintf("Cette action n'est plus possible : la demande a changé entre-temps et elle est maintenant « %s ». Voici son état actuel ; ce que vous aviez saisi est conservé ci-dessous.", statusLabels[now])
	h.renderRequest(c, http.StatusConflict, d, alert)
}

// text reads a required text field.
func text(c *gin.Context, name, field string, errs fieldErrors, empty string) string {
	v := strings.TrimSpace(c.PostForm(name))
	switch {
	case v == "":
		errs.add(field, empty)
	case utf8.RuneCountInString(v) > maxText:
		errs.add(field, fmt.Sprintf("Ce texte compte plus de %d caractères : raccourcissez-le.", maxText))
	}
	return v
}

// sameField keeps the intake's field names (the form uses them: "text", "reason"…).
func sameField(f string) string { return f }

// requestAssign takes the request (no moderator named) or hands it over to the moderator
// named in the form.
func (h *handlers) requestAssign(c *gin.Context) {
	to := strings.TrimSpace(c.PostForm("moderateur"))
	message := "prise"
	if to != "" && to != person(c).Subject {
		message = "confiee"
	}
	h.runRequestAction(c, requestAction{message: message, anchor: "#actions", field: func(string) string { return "moderateur" },
		read: func(c *gin.Context, f *pageForm, errs fieldErrors) {
			f.Moderator = to
			if len(to) > 200 {
				errs.add("moderateur", "Un identifiant compte au plus 200 caractères.")
			}
		},
		call: func(h *handlers, c *gin.Context, id, key string, f pageForm) error {
			moderator := f.Moderator
			if moderator == "" {
				moderator = person(c).Subject
			}
			_, err := h.Backend.Intake.Assign(c, id, key, moderator)
			return err
		}})
}

func (h *handlers) requestAsk(c *gin.Context) {
	h.runRequestAction(c, requestAction{message: "question", anchor: "#questions",
		field: func(string) string { return "question" },
		read: func(c *gin.Context, f *pageForm, errs fieldErrors) {
			f.Question = text(c, "question", "question", errs, "Écrivez votre question au partenaire.")
		},
		call: func(h *handlers, c *gin.Context, id, key string, f pageForm) error {
			return h.Backend.Intake.Ask(c, id, key, f.Question)
		}})
}

func (h *handlers) requestAnswer(c *gin.Context) {
	h.runRequestAction(c, requestAction{message: "reponse", anchor: "#questions",
		field: func(string) string { return "reponse" },
		read: func(c *gin.Context, f *pageForm, errs fieldErrors) {
			f.Answer = text(c, "reponse", "reponse", errs, "Écrivez votre réponse à la question.")
		},
		call: func(h *handlers, c *gin.Context, id, key string, f pageForm) error {
			return h.Backend.Intake.Answer(c, id, key, c.Param("questionId"), f.Answer)
		}})
}

func (h *handlers) requestMessage(c *gin.Context) {
	h.runRequestAction(c, requestAction{message: "message", anchor: "#messages",
		field: func(string) string { return "message" },
		read: func(c *gin.Context, f *pageForm, errs fieldErrors) {
			f.Message = text(c, "message", "message", errs, "Écrivez votre message.")
		},
		call: func(h *handlers, c *gin.Context, id, key string, f pageForm) error {
			return h.Backend.Intake.Message(c, id, key, f.Message)
		}})
}

func (h *handlers) requestWithdraw(c *gin.Context) {
	h.runRequestAction(c, requestAction{message: "retiree", anchor: "", field: func(string) string { return "motif-retrait" },
		read: func(c *gin.Context, f *pageForm, errs fieldErrors) {
			f.WithdrawReason = text(c, "motif-retrait", "motif-retrait", errs, "Dites en quelques mots pourquoi vous retirez la demande.")
		},
		call: func(h *handlers, c *gin.Context, id, key string, f pageForm) error {
			_, err := h.Backend.Intake.Withdraw(c, id, key, f.WithdrawReason)
			return err
		}})
}

// requestFollow follows the request: its events reach the person's notifications.
func (h *handlers) requestFollow(c *gin.Context) {
	id := c.Param("id")
	if err := h.Backend.Notifications.Follow(c, notifclient.Follow{RequestID: id}); err != nil {
		h.backendFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/demandes/"+id+"?message=suivie")
}

// decisionFields are the decision form's field names for one operation.
func decisionField(opID string) string  { return "decision-" + opID }
func rationaleField(opID string) string { return "motif-" + opID }

// requestDecide records the moderator's decision on every operation: accept, reject or
// amend, each with its rationale (required to reject or amend).
func (h *handlers) requestDecide(c *gin.Context) {
	id := c.Param("id")
	r, err := h.Backend.Intake.Request(c, id)
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	key := formKey(c.PostForm("cle"))
	errs := fieldErrors{}
	choices := map[string][2]string{}
	decisions := make([]backend.Decision, 0, len(r.Operations))
	for _, op := range r.Operations {
		choice, rationale := c.PostForm(decisionField(op.ID)), strings.TrimSpace(c.PostForm(rationaleField(op.ID)))
		choices[op.ID] = [2]string{choice, rationale}
		d := backend.Decision{OperationID: op.ID, Decision: choice, Rationale: rationale}
		switch choice {
		case request.DecisionAccepted:
		case request.DecisionRejected:
			if rationale == "" {
				errs.add(rationaleField(op.ID), "Pour refuser, donnez le motif : le partenaire le lira.")
			}
		case request.DecisionAmended:
			if rationale == "" {
				errs.add(rationaleField(op.ID), "Pour amender, donnez le motif : le partenaire le lira.")
			}
			amendment := parseAmendment(c, op, errs)
			d.Amendment = &amendment
		default:
			errs.add(decisionField(op.ID), "Choisissez : accepter, refuser ou amender.")
		}
		decisions = append(decisions, d)
	}
	if !errs.Any() {
		_, err := h.Backend.Intake.Decide(c, id, key, decisions)
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/demandes/"+id+"?message=decision")
			return
		}
		e, ok := backend.AsError(err)
		switch {
		case ok && e.Status == http.StatusUnprocessableEntity:
			errs = fromProblem(e, func(field string) string { return decisionProblemField(field, decisions) })
		case ok && e.Status == http.StatusConflict:
			h.requestConflict(c, id, pageForm{Key: key}, e)
			return
		default:
			h.backendFailed(c, err)
			return
		}
	}
	d, err := h.loadRequestPage(c, id)
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	for i := range d.Ops {
		if v, ok := choices[d.Ops[i].ID]; ok {
			d.Ops[i].Choice, d.Ops[i].Rationale = v[0], v[1]
		}
	}
	d.Form.Key, d.Errors = key, errs
	h.renderRequest(c, http.StatusUnprocessableEntity, d, "")
}

// decisionProblemField maps the intake's "decisions[2].rationale" to the form's field of
// that operation.
func decisionProblemField(field string, decisions []backend.Decision) string {
	var i int
	var rest string
	if n, _ := fmt.Sscanf(field, "decisions[%d].%s", &i, &rest); n == 2 && i >= 0 && i < len(decisions) {
		opID := decisions[i].OperationID
		switch {
		case rest == "rationale":
			return rationaleField(opID)
		case strings.HasPrefix(rest, "amendment."):
			return amendInput(opID, strings.TrimPrefix(rest, "amendment."))
		case rest == "amendment":
			return amendmentField(opID)
		default:
			return decisionField(opID)
		}
	}
	return ""
}

// amendmentField is the field of an operation's amendment that a 422 about the whole
// amendment points at: its first amendable field.
func amendmentField(opID string) string { return "amendement-" + opID }
