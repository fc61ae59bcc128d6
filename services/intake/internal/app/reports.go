package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// What the worker's activities and Microsoft Graph report to the intake.

// maxOverlapElements bounds an overlap query (a request has at most 100 operations, each
// touching a couple of elements).
const maxOverlapElements = 1000

// RecordEvent records an event of a request's workflow in its history and projection;
// recording it again changes nothing. An event that takes the place of one a lost workflow
// task wrote is logged: it tells ops a worker died mid-task.
func (s *Service) RecordEvent(ctx context.Context, e request.Event) error {
	var errs fieldErrors
	if e.RequestID == "" {
		errs.add("requestId", "is required")
	}
	if e.Seq < 1 {
		errs.add("seq", "must be 1 or more")
	}
	if e.Type == "" {
		errs.add("type", "is required")
	}
	if e.At.IsZero() {
		errs.add("at", "is required")
	}
	if e.Request.ID != e.RequestID {
		errs.add("request.id", "must be the event's requestId: an event carries its own request's state")
	}
	if e.Request.Status == "" {
		errs.add("request.status", "is required")
	}
	if len(errs) > 0 {
		return httpx.Unprocessable("invalid_event", "The event is invalid.", errs...)
	}
	recorded, err := s.requests.RecordEvent(ctx, e)
	if recorded == store.Replaced {
		slog.WarnContext(ctx, "event replaced one a lost workflow task recorded", "workflow_id", request.WorkflowID(e.RequestID),
			"seq", e.Seq, "type", e.Type)
	}
	// A retried record of the published event is no second publication.
	if err == nil && recorded != store.AlreadyRecorded && e.Type == request.EventPublished {
		s.metrics.published(ctx, e)
	}
	return err
}

// FindOverlaps lists the other open requests touching the elements of the query.
func (s *Service) FindOverlaps(ctx context.Context, q request.OverlapQuery) ([]request.Overlap, error) {
	if len(q.Elements) > maxOverlapElements {
		return nil, httpx.Unprocessable("invalid_query", "Too many elements.",
			httpx.FieldError{Field: "elements", Message: "must list at most 1000 elements"})
	}
	var errs fieldErrors
	errs.text("requestId", &q.RequestID, request.IdentifierRule, false)
	if q.CodeRome != "" && !request.CodeRomePattern.MatchString(q.CodeRome) {
		errs.add("codeRome", "must be a code ROME, e.g. M1805")
	}
	for i := range q.Elements {
		errs.text(fmt.Sprintf("elements[%d]", i), &q.Elements[i], request.ElementRule, true)
	}
	if len(errs) > 0 {
		return nil, httpx.Unprocessable("invalid_query", "The query is invalid.", errs...)
	}
	return s.requests.FindOverlaps(ctx, q)
}

// GraphNotification is one of Microsoft Graph's change notifications.
type GraphNotification struct {
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	ChangeType     string `json:"changeType"`
	Resource       string `json:"resource"`
}

// messageResource is the resource of a channel message: teams('…')/channels('…')/messages('…').
var messageResource = regexp.MustCompile(`channels\('([^']+)'\)/messages\('([^']+)'\)`)

// TeamsMessages hands the new messages of the requests' Teams channels to their
// workflows, as signals: each workflow reads and records a message once. Notifications are
// authenticated by the subscription's client state; the others, and those that cannot be
// Graph's (a subscription id no GUID looks like), are ignored. An error means
// Graph should deliver them again.
func (s *Service) TeamsMessages(ctx context.Context, notifications []GraphNotification) error {
	if s.cfg.Teams == nil {
		return httpx.NotFound("teams_disabled", "Teams channels are not configured on this platform")
	}
	for _, n := range notifications {
		if _, p := request.CheckText("subscriptionId", n.SubscriptionID, request.IdentifierRule); p != nil {
			slog.WarnContext(ctx, "Graph notification with an unusable subscription id ignored", "problem", p.Message)
			continue
		}
		if subtle.ConstantTimeCompare([]byte(n.ClientState), []byte(s.cfg.Teams.ClientState)) != 1 {
			slog.WarnContext(ctx, "Graph notification with a wrong client state ignored", "subscription", n.SubscriptionID)
			continue
		}
		m := messageResource.FindStringSubmatch(n.Resource)
		if n.ChangeType != "created" || m == nil {
			continue
		}
		channelID, messageID := m[1], m[2]
		id, found, err := s.requests.RequestByTeamsChannel(ctx, channelID)
		if err != nil {
			return err
		}
		if !found {
			slog.WarnContext(ctx, "Graph notification for a channel of no request", "channel", channelID)
			continue
		}
		err = s.workflows.Signal(ctx, id, request.SignalTeamsReply, request.TeamsReply{ChannelID: channelID, MessageID: messageID})
		switch {
		case errors.Is(err, ErrWorkflowClosed):
			slog.InfoContext(ctx, "Teams message on a closed request not recorded", "request", id, "message", messageID)
		case err != nil:
			// Graph redelivers what it could not hand over.
			return httpx.NewProblem(http.StatusServiceUnavailable, "workflow_unavailable", err.Error())
		}
	}
	return nil
}
