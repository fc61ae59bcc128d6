package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Limits of what a request carries. The texts' limits are the request contract's
// (request.CheckText and its rules).
const (
	maxText       = request.MaxText // justification, questions, answers, messages, reasons, rationales
	maxOperations = request.MaxOperations
	maxShortField = 200 // moderator subjects
)

// moderatorRule is a moderator's subject, named in an assignment.
var moderatorRule = request.TextRule{Name: "subject", Max: maxShortField}

// submission is the body of POST /v1/requests.
type submission struct {
	Kind          request.Kind        `json:"kind"`
	CodeRome      string              `json:"codeRome"`
	Title         string              `json:"title"`
	Justification string              `json:"justification"`
	Operations    []request.Operation `json:"operations"`
}

var (
	codeRomePattern = request.CodeRomePattern
	kinds           = []request.Kind{request.KindModifyFiche, request.KindCreateFromKnown, request.KindCreateFromNew}
)

// validate lists everything wrong with the submission, field by field.
func (s *submission) validate() []httpx.FieldError {
	var errs fieldErrors
	s.CodeRome = strings.TrimSpace(s.CodeRome)
	switch {
	case !slices.Contains(kinds, s.Kind):
		errs.add("kind", "must be one of %s, %s, %s", request.KindModifyFiche, request.KindCreateFromKnown, request.KindCreateFromNew)
	case s.Kind == request.KindModifyFiche && s.CodeRome == "":
		errs.add("codeRome", "is required to modify a fiche")
	case s.Kind == request.KindModifyFiche && !codeRomePattern.MatchString(s.CodeRome):
		errs.add("codeRome", "must be a code ROME: a letter A to N and four digits, e.g. M1805")
	case s.Kind != request.KindModifyFiche && s.CodeRome != "":
		errs.add("codeRome", "must be absent when creating a fiche: the referential assigns the code")
	}
	errs.text("title", &s.Title, request.TitleRule, true)
	errs.text("justification", &s.Justification, request.LongTextRule, true)
	errs.operations("operations", s.Operations, 1)
	if len(s.Operations) == 0 || len(s.Operations) > maxOperations || !slices.Contains(kinds, s.Kind) {
		return errs
	}
	for i, op := range s.Operations {
		field := fmt.Sprintf("operations[%d]", i)
		creating := s.Kind != request.KindModifyFiche
		switch {
		case i == 0 && creating && op.Op != refclient.OpCreateFiche:
			errs.add(field+".op", "must be create_fiche: a request of kind %s starts by creating the fiche", s.Kind)
		case op.Op == refclient.OpCreateFiche && (!creating || i > 0):
			errs.add(field+".op", "create_fiche is only allowed as the first operation of a create_fiche_from_* request")
		}
	}
	if first := s.Operations[0]; first.Op == refclient.OpCreateFiche {
		p, field := first.AppellationPrincipale, "operations[0].appellationPrincipale"
		switch {
		case s.Kind == request.KindCreateFromKnown && (p == nil || strings.TrimSpace(p.CodeOgr) == ""):
			errs.add(field+".codeOgr", "is required: the code OGR of the existing appellation that becomes the new fiche's principal one")
		case s.Kind == request.KindCreateFromKnown && p.Libelle != "":
			errs.add(field+".libelle", "must be absent: a known appellation keeps its label")
		case s.Kind == request.KindCreateFromNew && (p == nil || strings.TrimSpace(p.Libelle) == ""):
			errs.add(field+".libelle", "is required: the label of the new principal appellation")
		case s.Kind == request.KindCreateFromNew && p.CodeOgr != "":
			errs.add(field+".codeOgr", "must be absent: the appellation is new")
		}
	}
	return errs
}

// request builds the state a new request starts its workflow with; operations without an
// id get op-1, op-2… (skipping the ids the partner chose).
func (s *submission) request(id string, by request.Actor, now time.Time) request.Request {
	return request.Request{
		ID: id, Kind: s.Kind, CodeRome: s.CodeRome, Title: s.Title, Justification: s.Justification,
		Status: request.StatusSubmitted, Org: by.Org, SubmittedBy: by,
		Operations: withIDs(s.Operations), Findings: []request.Finding{}, Questions: []request.Question{},
		CreatedAt: now, UpdatedAt: now,
	}
}

func withIDs(ops []request.Operation) []request.RequestOperation {
	used := map[string]bool{}
	for _, op := range ops {
		used[op.ID] = true
	}
	out := make([]request.RequestOperation, len(ops))
	n := 0
	for i, op := range ops {
		for op.ID == "" {
			n++
			if id := "op-" + strconv.Itoa(n); !used[id] {
				op.ID = id
			}
		}
		out[i] = request.RequestOperation{Operation: op}
	}
	return out
}

// fieldErrors collects validation errors.
type fieldErrors []httpx.FieldError

func (e *fieldErrors) add(field, format string, args ...any) {
	*e = append(*e, httpx.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// text cleans a text field in place by the request contract's rule (request.CheckText:
// no control or bidirectional characters, at most rule.Max characters, trimmed, NFC), or
// adds the problem, leaving the field as it was; required refuses an empty text.
func (e *fieldErrors) text(field string, s *string, rule request.TextRule, required bool) {
	clean, p := request.CheckText(field, *s, rule)
	switch {
	case p != nil:
		e.add(p.Field, "%s", p.Message)
	case required && clean == "":
		e.add(field, "is required")
	default:
		*s = clean
	}
}

// problems adds the request contract's problems.
func (e *fieldErrors) problems(ps []request.FieldProblem) {
	for _, p := range ps {
		e.add(p.Field, "%s", p.Message)
	}
}

// operations checks what makes operations unusable whatever the request: their number,
// their syntax and texts (request.ValidateOperations: a known kind, the fields it requires,
// valid enums, codes and ranks; texts cleaned in place by the text rule) and their ids
// (unique). What an operation means for the fiche (the element exists, is already there)
// is the referential's dry run's business, in the workflow's checks.
func (e *fieldErrors) operations(field string, ops []request.Operation, min int) {
	switch {
	case len(ops) < min:
		e.add(field, "must list at least %d operation", min)
		return
	case len(ops) > maxOperations:
		e.add(field, "must list at most %d operations (it has %d)", maxOperations, len(ops))
		return
	}
	e.problems(request.ValidateOperations(field, ops))
	seen := map[string]int{}
	for i, op := range ops {
		if op.ID == "" {
			continue
		}
		if j, dup := seen[op.ID]; dup {
			e.add(fmt.Sprintf("%s[%d].id", field, i), "duplicates the id of %s[%d]", field, j)
		}
		seen[op.ID] = i
	}
}
