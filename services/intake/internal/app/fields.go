package app

import (
	"fmt"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/workflows/request"
)

// fieldErrors collects validation errors.
type fieldErrors []httpx.FieldError

func (e *fieldErrors) add(field, format string, args ...any) {
	*e = append(*e, httpx.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// text cleans a text field in place by the request contract's rule (textrule.Clean: no
// control or bidirectional characters, at most rule.Max characters, trimmed, NFC), or adds
// the problem, leaving the field as it was; required refuses an empty text.
func (e *fieldErrors) text(field string, s *string, rule request.TextRule, required bool) {
	if p := textrule.Clean(field, s, rule, required); p != nil {
		e.add(p.Field, "%s", p.Message)
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
	case len(ops) > request.MaxOperations:
		e.add(field, "must list at most %d operations (it has %d)", request.MaxOperations, len(ops))
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

// invalid is the 422 of a body with field errors, nil without any.
func (e fieldErrors) invalid() error {
	if len(e) == 0 {
		return nil
	}
	return httpx.Unprocessable("invalid_body", "The request body is invalid.", e...)
}
