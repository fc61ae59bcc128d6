package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// TextViolation is a stored request text that today's text rules would refuse.
type TextViolation struct {
	RequestID string
	Problem   request.FieldProblem
}

// StoredTextViolations finds the stored requests whose texts break today's rules: requests
// filed before the rules existed. Nothing is rewritten (a request's history is what people
// sent); the report says which requests a moderator may want to amend.
func (s *Service) StoredTextViolations(ctx context.Context) ([]TextViolation, error) {
	var out []TextViolation
	err := s.requests.EachRequest(ctx, func(row store.Row) error {
		var r request.Request
		if err := json.Unmarshal(row.State, &r); err != nil {
			return fmt.Errorf("request %s: %w", row.ID, err)
		}
		for _, p := range requestTextProblems(r) {
			out = append(out, TextViolation{RequestID: row.ID, Problem: p})
		}
		return nil
	})
	return out, err
}

// requestTextProblems applies the text rules to what people wrote in a request.
func requestTextProblems(r request.Request) []request.FieldProblem {
	var problems []request.FieldProblem
	check := func(field, value string, rule request.TextRule) {
		if _, p := request.CheckText(field, value, rule); p != nil {
			problems = append(problems, *p)
		}
	}
	check("title", r.Title, request.TitleRule)
	check("justification", r.Justification, request.LongTextRule)
	for i, o := range r.Operations {
		op := o.Operation
		problems = append(problems, request.CleanOperation(fmt.Sprintf("operations[%d]", i), &op)...)
		if d := o.Decision; d != nil {
			check(fmt.Sprintf("operations[%d].decision.rationale", i), d.Rationale, request.LongTextRule)
			if d.Amendment != nil {
				amendment := *d.Amendment
				problems = append(problems, request.CleanOperation(fmt.Sprintf("operations[%d].decision.amendment", i), &amendment)...)
			}
		}
	}
	for i, q := range r.Questions {
		check(fmt.Sprintf("questions[%d].text", i), q.Text, request.LongTextRule)
		if q.Answer != nil {
			check(fmt.Sprintf("questions[%d].answer", i), *q.Answer, request.LongTextRule)
		}
	}
	return problems
}

// ReportStoredTexts logs the stored texts that break today's rules, one warning per
// request text, and how many there are: run once the migrations have run.
func (s *Service) ReportStoredTexts(ctx context.Context) error {
	found, err := s.StoredTextViolations(ctx)
	if err != nil {
		return err
	}
	for _, v := range found {
		slog.WarnContext(ctx, "a stored request text breaks the text rules; it is kept as it was sent",
			"request_id", v.RequestID, "field", v.Problem.Field, "problem", v.Problem.Message)
	}
	slog.InfoContext(ctx, "stored request texts checked", "violations", len(found))
	return nil
}
