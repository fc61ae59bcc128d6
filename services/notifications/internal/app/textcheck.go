package app

import (
	"context"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// TextViolation is a stored notification text that today's text rules would refuse.
type TextViolation struct {
	NotificationID string
	Problem        request.FieldProblem
}

// StoredTextViolations finds the stored notifications whose title, text or author's name
// break today's text rules: notifications created before the rules existed. Nothing is
// rewritten (an inbox shows what was notified).
func (s *Service) StoredTextViolations(ctx context.Context) ([]TextViolation, error) {
	var out []TextViolation
	err := s.store.EachNotification(ctx, func(n store.Notification) error {
		for _, f := range []struct {
			field, value string
			rule         request.TextRule
		}{
			{"title", n.Title, request.NotificationTitleRule},
			{"text", n.Text, request.LongTextRule},
			{"actor.name", n.Actor.Name, request.TextRule{Name: "name", Max: 200}},
		} {
			if _, p := request.CheckText(f.field, f.value, f.rule); p != nil {
				out = append(out, TextViolation{NotificationID: n.ID, Problem: *p})
			}
		}
		return nil
	})
	return out, err
}

// ReportStoredTexts logs the stored notification texts that break today's rules, one
// warning each, and how many there are: run once the migrations have run.
func (s *Service) ReportStoredTexts(ctx context.Context) {
	found, err := s.StoredTextViolations(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "stored notification texts not checked", "error", err)
		return
	}
	for _, v := range found {
		s.log.WarnContext(ctx, "a stored notification text breaks the text rules; it is kept as it was notified",
			"notification_id", v.NotificationID, "field", v.Problem.Field, "problem", v.Problem.Message)
	}
	s.log.InfoContext(ctx, "stored notification texts checked", "violations", len(found))
}
