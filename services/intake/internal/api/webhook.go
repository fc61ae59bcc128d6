package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/workflows/request"
)

// graphNotifications is the body of Microsoft Graph change notifications.
type graphNotifications struct {
	Value []struct {
		SubscriptionID string `json:"subscriptionId"`
		ClientState    string `json:"clientState"`
		ChangeType     string `json:"changeType"`
		Resource       string `json:"resource"`
	} `json:"value"`
}

// messageResource is the resource of a channel message: teams('…')/channels('…')/messages('…').
var messageResource = regexp.MustCompile(`channels\('([^']+)'\)/messages\('([^']+)'\)`)

// graphWebhook receives Graph's change notifications on the requests' Teams channels.
// Creating a subscription, Graph first sends a validationToken to echo within 10 s.
// Notifications are authenticated by the subscription's client state; each new message
// becomes a signal to its request's workflow, which reads and records it once. Graph
// retries what is not acknowledged, so the answer is 202 as soon as the signals are sent.
func (h *handlers) graphWebhook(c *gin.Context) {
	if token := c.Query("validationToken"); token != "" {
		c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(token))
		return
	}
	if h.teams == nil {
		c.Error(httpx.NotFound("teams_disabled", "Teams channels are not configured on this platform"))
		return
	}
	var n graphNotifications
	if err := json.NewDecoder(io.LimitReader(c.Request.Body, httpx.MaxBodyBytes)).Decode(&n); err != nil {
		c.Error(httpx.BadRequest("malformed_json", "the body is not a Graph change notification"))
		return
	}
	ctx := c.Request.Context()
	for _, v := range n.Value {
		if subtle.ConstantTimeCompare([]byte(v.ClientState), []byte(h.teams.ClientState)) != 1 {
			slog.WarnContext(ctx, "Graph notification with a wrong client state ignored", "subscription", v.SubscriptionID)
			continue
		}
		m := messageResource.FindStringSubmatch(v.Resource)
		if v.ChangeType != "created" || m == nil {
			continue
		}
		channelID, messageID := m[1], m[2]
		id, found, err := h.requests.RequestByTeamsChannel(ctx, channelID)
		if err != nil {
			c.Error(err)
			return
		}
		if !found {
			slog.WarnContext(ctx, "Graph notification for a channel of no request", "channel", channelID)
			continue
		}
		err = h.workflows.Signal(ctx, id, request.SignalTeamsReply, request.TeamsReply{ChannelID: channelID, MessageID: messageID})
		switch {
		case errors.Is(err, ErrWorkflowClosed):
			slog.InfoContext(ctx, "Teams message on a closed request not recorded", "request", id, "message", messageID)
		case err != nil:
			// Graph redelivers what it could not hand over.
			c.Error(httpx.NewProblem(http.StatusServiceUnavailable, "workflow_unavailable", err.Error()))
			return
		}
	}
	c.Status(http.StatusAccepted)
}
