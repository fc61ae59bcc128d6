package teams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	graphteams "github.com/microsoftgraph/msgraph-sdk-go/teams"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/platform/telemetry"
)

// Activities talk to Microsoft Graph for the request workflow.
type Activities struct {
	graph       *msgraphsdk.GraphServiceClient
	cfg         Config
	graphErrors metric.Int64Counter
}

// Application error types.
const (
	// ErrTypeRejected is a permanent refusal (4xx other than 408/429): not retried; details: GraphError.
	ErrTypeRejected = "TeamsRejected"
	// ErrTypeUnavailable is a 429, a 5xx or a 408: retried, after Retry-After when Graph gave one.
	ErrTypeUnavailable = "TeamsUnavailable"
)

// GraphError is the detail of a Teams application error.
type GraphError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MaxChannelNameLength is Teams' limit on a channel's display name.
const MaxChannelNameLength = 50

// CreateChannelInput describes the request whose channel is created.
type CreateChannelInput struct {
	RequestID string `json:"requestId"`
	CodeRome  string `json:"codeRome"`
	Title     string `json:"title"`
	Summary   string `json:"summary"` // plain text
	Link      string `json:"link"`    // the request's page
	// Members are the Entra object ids of the request's people (the submitter): added to a
	// private channel next to the configured owners; a standard channel is the whole team's.
	Members []string `json:"members,omitempty"`
}

// CreateChannelOutput is the request's channel.
type CreateChannelOutput struct {
	ChannelID string `json:"channelId"`
	WebURL    string `json:"webUrl"`
	Name      string `json:"name"`
	// Private channels list their members: the people who act on the request later are
	// added with AddMember.
	Private bool `json:"private,omitempty"`
}

// CreateChannel creates the request's channel (or finds the one a previous attempt created:
// its name is derived from the request) and posts the summary once.
func (a *Activities) CreateChannel(ctx context.Context, in CreateChannelInput) (CreateChannelOutput, error) {
	if in.RequestID == "" {
		return CreateChannelOutput{}, temporal.NewNonRetryableApplicationError("teams: requestId is required", ErrTypeRejected, nil, GraphError{Code: "requestId"})
	}
	name := ChannelName(in.RequestID, in.CodeRome, in.Title)
	ch, err := a.findChannel(ctx, name)
	if err != nil {
		return CreateChannelOutput{}, err
	}
	if ch == nil {
		ch, err = a.createChannel(ctx, name, in)
		if err != nil {
			return CreateChannelOutput{}, err
		}
	}
	out := CreateChannelOutput{ChannelID: deref(ch.GetId()), WebURL: deref(ch.GetWebUrl()), Name: name,
		Private: deref(ch.GetMembershipType()) == models.PRIVATE_CHANNELMEMBERSHIPTYPE}
	summary := fmt.Sprintf("<p><b>%s</b> — %s</p><p>%s</p><p><a href=\"%s\">%s</a></p>",
		html.EscapeString(in.CodeRome), html.EscapeString(in.Title), html.EscapeString(in.Summary),
		html.EscapeString(in.Link), html.EscapeString(in.Link))
	if _, err := a.PostMessage(ctx, PostMessageInput{ChannelID: out.ChannelID, Key: "summary:" + in.RequestID, HTML: summary}); err != nil {
		return CreateChannelOutput{}, err
	}
	return out, nil
}

func (a *Activities) channels() *graphteams.ItemChannelsRequestBuilder {
	return a.graph.Teams().ByTeamId(a.cfg.TeamID).Channels()
}

func (a *Activities) findChannel(ctx context.Context, name string) (models.Channelable, error) {
	filter := "displayName eq '" + strings.ReplaceAll(name, "'", "''") + "'"
	res, err := a.channels().Get(ctx, &graphteams.ItemChannelsRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphteams.ItemChannelsRequestBuilderGetQueryParameters{Filter: &filter},
	})
	if err != nil {
		return nil, a.classify(ctx, "find channel", err)
	}
	for _, c := range res.GetValue() {
		if strings.EqualFold(deref(c.GetDisplayName()), name) {
			return c, nil
		}
	}
	return nil, nil
}

func (a *Activities) createChannel(ctx context.Context, name string, in CreateChannelInput) (models.Channelable, error) {
	body := models.NewChannel()
	body.SetDisplayName(&name)
	desc := truncate(in.CodeRome+" — "+in.Title+" — "+in.Link, 1024)
	body.SetDescription(&desc)
	membership := models.STANDARD_CHANNELMEMBERSHIPTYPE
	if a.cfg.PrivateChannels {
		membership = models.PRIVATE_CHANNELMEMBERSHIPTYPE
		var members []models.ConversationMemberable
		for _, id := range a.cfg.ChannelOwners {
			members = append(members, conversationMember(id, "owner"))
		}
		for _, id := range in.Members {
			if !slices.Contains(a.cfg.ChannelOwners, id) {
				members = append(members, conversationMember(id))
			}
		}
		body.SetMembers(members)
	}
	body.SetMembershipType(&membership)
	ch, err := a.channels().Post(ctx, body, nil)
	if err == nil {
		return ch, nil
	}
	if e, ok := asAPIError(err); ok && e.GetStatusCode() == http.StatusBadRequest && graphCode(err) == "NameAlreadyExists" {
		// A previous attempt created it and its answer was lost.
		found, ferr := a.findChannel(ctx, name)
		if ferr != nil {
			return nil, ferr
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, a.classify(ctx, "create channel", err)
}

// conversationMember is a user of the directory as a channel member.
func conversationMember(userID string, roles ...string) *models.AadUserConversationMember {
	m := models.NewAadUserConversationMember()
	m.SetRoles(append([]string{}, roles...))
	m.SetAdditionalData(map[string]any{"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + userID + "')"})
	return m
}

// AddMemberInput names a private channel and the Entra object id of a person to add.
type AddMemberInput struct {
	ChannelID string `json:"channelId"`
	UserID    string `json:"userId"`
}

// AddMember adds a person to a private channel; one who is already a member stays one.
func (a *Activities) AddMember(ctx context.Context, in AddMemberInput) error {
	_, err := a.channels().ByChannelId(in.ChannelID).Members().Post(ctx, conversationMember(in.UserID), nil)
	if e, ok := asAPIError(err); ok && e.GetStatusCode() == http.StatusConflict {
		return nil // a previous attempt added them and its answer was lost
	}
	if err != nil {
		return a.classify(ctx, "add member", err)
	}
	return nil
}

var nameForbidden = regexp.MustCompile(`[~#%&*{}+/\\:<>?|'"\x00-\x1f]+`)

// ChannelName is the channel's display name for a request: "<request id> <code ROME> <title>",
// forbidden characters replaced, within 50 characters, with no leading or trailing space or
// period. It starts with the request id, so two requests never share a name.
func ChannelName(requestID, codeRome, title string) string {
	clean := func(s string) string {
		return strings.Join(strings.Fields(nameForbidden.ReplaceAllString(s, " ")), " ")
	}
	id := clean(requestID)
	if utf8.RuneCountInString(id) > 24 { // keep room for the code and the title
		sum := sha256.Sum256([]byte(requestID))
		id = truncate(id, 15) + "-" + hex.EncodeToString(sum[:])[:8]
	}
	name := truncate(strings.TrimSpace(id+" "+clean(codeRome)+" "+clean(title)), MaxChannelNameLength)
	return strings.Trim(name, " .")
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// PostMessageInput is a message for a channel. Key makes the post idempotent: a message
// carrying it among the channel's recent messages is not posted again.
type PostMessageInput struct {
	ChannelID string `json:"channelId"`
	Key       string `json:"key"`
	HTML      string `json:"html"`
}

// PostMessageOutput is the posted (or already present) message.
type PostMessageOutput struct {
	MessageID string `json:"messageId"`
}

// recentMessages is how many of the newest messages are searched for a Key (one Graph page).
const recentMessages = 50

// PostMessage posts HTML in a channel, once per Key.
func (a *Activities) PostMessage(ctx context.Context, in PostMessageInput) (PostMessageOutput, error) {
	msgs := a.channels().ByChannelId(in.ChannelID).Messages()
	content := in.HTML
	if in.Key != "" {
		marker := keyMarker(in.Key)
		top := int32(recentMessages)
		res, err := msgs.Get(ctx, &graphteams.ItemChannelsItemMessagesRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphteams.ItemChannelsItemMessagesRequestBuilderGetQueryParameters{Top: &top},
		})
		if err != nil {
			return PostMessageOutput{}, a.classify(ctx, "list messages", err)
		}
		for _, m := range res.GetValue() {
			if b := m.GetBody(); b != nil && strings.Contains(deref(b.GetContent()), marker) {
				return PostMessageOutput{MessageID: deref(m.GetId())}, nil
			}
		}
		content += marker
	}
	body := models.NewItemBody()
	ct := models.HTML_BODYTYPE
	body.SetContentType(&ct)
	body.SetContent(&content)
	msg := models.NewChatMessage()
	msg.SetBody(body)
	m, err := msgs.Post(ctx, msg, nil)
	if err != nil {
		return PostMessageOutput{}, a.classify(ctx, "post message", err)
	}
	return PostMessageOutput{MessageID: deref(m.GetId())}, nil
}

// keyMarker is an invisible marker carrying a message's idempotency key.
func keyMarker(key string) string {
	return "<!-- rome-key:" + strings.ReplaceAll(html.EscapeString(key), "--", "&#45;&#45;") + " -->"
}

// CloseChannelInput names the channel of a closed request and how it ended.
type CloseChannelInput struct {
	ChannelID string `json:"channelId"`
	Status    string `json:"status"`
}

// CloseChannelOutput says whether the channel was archived or only marked closed.
type CloseChannelOutput struct {
	Archived bool `json:"archived"`
}

// CloseChannel archives the channel; when Graph refuses (403), it marks the channel closed in
// its description instead. Archiving an archived channel succeeds.
func (a *Activities) CloseChannel(ctx context.Context, in CloseChannelInput) (CloseChannelOutput, error) {
	item := a.channels().ByChannelId(in.ChannelID)
	err := item.Archive().Post(ctx, graphteams.NewItemChannelsItemArchivePostRequestBody(), nil)
	if err == nil {
		return CloseChannelOutput{Archived: true}, nil
	}
	if e, ok := asAPIError(err); !ok || e.GetStatusCode() != http.StatusForbidden {
		return CloseChannelOutput{}, a.classify(ctx, "archive channel", err)
	}
	ch, gerr := item.Get(ctx, nil)
	if gerr != nil {
		return CloseChannelOutput{}, a.classify(ctx, "get channel", gerr)
	}
	mark := "[Closed: " + in.Status + "]"
	desc := deref(ch.GetDescription())
	if !strings.HasPrefix(desc, mark) {
		desc = truncate(mark+" "+desc, 1024)
		patch := models.NewChannel()
		patch.SetDescription(&desc)
		if _, err := item.Patch(ctx, patch, nil); err != nil {
			return CloseChannelOutput{}, a.classify(ctx, "mark channel closed", err)
		}
	}
	return CloseChannelOutput{Archived: false}, nil
}

// GetMessageInput names a message (from a change notification).
type GetMessageInput struct {
	ChannelID string `json:"channelId"`
	MessageID string `json:"messageId"`
}

// Sender is the author of a message (a user; an application's messages carry its id too).
type Sender struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Application bool   `json:"application"`
}

// GetMessageOutput is a message with its body as plain text.
type GetMessageOutput struct {
	ID        string    `json:"id"`
	From      Sender    `json:"from"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"createdAt"`
}

// GetMessage reads a channel message.
func (a *Activities) GetMessage(ctx context.Context, in GetMessageInput) (GetMessageOutput, error) {
	m, err := a.channels().ByChannelId(in.ChannelID).Messages().ByChatMessageId(in.MessageID).Get(ctx, nil)
	if err != nil {
		return GetMessageOutput{}, a.classify(ctx, "get message", err)
	}
	out := GetMessageOutput{ID: deref(m.GetId())}
	if t := m.GetCreatedDateTime(); t != nil {
		out.CreatedAt = t.UTC()
	}
	if f := m.GetFrom(); f != nil {
		if u := f.GetUser(); u != nil {
			out.From = Sender{ID: deref(u.GetId()), DisplayName: deref(u.GetDisplayName())}
		} else if app := f.GetApplication(); app != nil {
			out.From = Sender{ID: deref(app.GetId()), DisplayName: deref(app.GetDisplayName()), Application: true}
		}
	}
	if b := m.GetBody(); b != nil {
		out.Text = deref(b.GetContent())
		if ct := b.GetContentType(); ct == nil || *ct == models.HTML_BODYTYPE {
			out.Text = PlainText(out.Text)
		}
	}
	return out, nil
}

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	htmlBreak   = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>`)
	htmlTag     = regexp.MustCompile(`(?s)<[^>]*>`)
	blankLines  = regexp.MustCompile(`\n{3,}`)
)

// PlainText turns a Teams HTML body into text.
func PlainText(s string) string {
	s = htmlComment.ReplaceAllString(s, "")
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = html.UnescapeString(htmlTag.ReplaceAllString(s, ""))
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(strings.ReplaceAll(l, "\u00a0", " "))
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func graphCode(err error) string {
	var o *odataerrors.ODataError
	if errors.As(err, &o) && o.GetErrorEscaped() != nil {
		return deref(o.GetErrorEscaped().GetCode())
	}
	return ""
}

// classify counts a failed Graph call (telemetry.GraphErrors) and turns it into the
// activity's error (activityError). The answers an activity expects (a channel or member
// already there, an archive refused) are handled before and not counted.
func (a *Activities) classify(ctx context.Context, op string, err error) error {
	a.graphErrors.Add(ctx, 1, metric.WithAttributes(graphErrorAttributes(op, err)...))
	return activityError(op, err)
}

// graphErrorAttributes are op and the HTTP status Graph or the identity platform answered,
// or, when no answer came, the kind of failure.
func graphErrorAttributes(op string, err error) []attribute.KeyValue {
	attrs := []attribute.KeyValue{telemetry.AttrGraphOperation.String(op)}
	status := 0
	var auth *azidentity.AuthenticationFailedError
	if e, ok := asAPIError(err); ok {
		status = e.GetStatusCode()
	} else if errors.As(err, &auth) && auth.RawResponse != nil {
		status = auth.RawResponse.StatusCode
	}
	switch {
	case status != 0:
		return append(attrs, telemetry.AttrHTTPResponseStatus.Int(status), telemetry.AttrErrorType.String(strconv.Itoa(status)))
	case errors.Is(err, context.DeadlineExceeded):
		return append(attrs, telemetry.AttrErrorType.String("timeout"))
	}
	return append(attrs, telemetry.AttrErrorType.String("_OTHER"))
}

// activityError turns a Graph failure into a Temporal error: 429, 408 and 5xx are retryable
// (after Retry-After when given), other 4xx are final; transport errors are left retryable.
func activityError(op string, err error) error {
	var auth *azidentity.AuthenticationFailedError
	if errors.As(err, &auth) && auth.RawResponse != nil && auth.RawResponse.StatusCode/100 == 4 {
		// Wrong tenant, client id or secret: no retry will fix it.
		detail := GraphError{Status: auth.RawResponse.StatusCode, Code: "AuthenticationFailed", Message: err.Error()}
		return temporal.NewNonRetryableApplicationError("teams: "+op+": "+err.Error(), ErrTypeRejected, err, detail)
	}
	e, ok := asAPIError(err)
	if !ok {
		return fmt.Errorf("teams: %s: %w", op, err)
	}
	detail := GraphError{Status: e.GetStatusCode(), Code: graphCode(err), Message: err.Error()}
	var o *odataerrors.ODataError
	if errors.As(err, &o) && o.GetErrorEscaped() != nil {
		detail.Message = deref(o.GetErrorEscaped().GetMessage())
	}
	msg := fmt.Sprintf("teams: %s: Graph answered %d %s: %s", op, detail.Status, detail.Code, detail.Message)
	switch s := detail.Status; {
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500:
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeUnavailable, temporal.ApplicationErrorOptions{
			Cause: err, NextRetryDelay: retryAfter(e), Details: []any{detail},
		})
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeRejected, err, detail)
}

// retryAfter reads Retry-After (seconds or an HTTP date); 0 leaves the retry policy's delay.
func retryAfter(e apiError) time.Duration {
	h := e.GetResponseHeaders()
	if h == nil {
		return 0
	}
	for _, v := range h.Get("Retry-After") {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && time.Until(t) > 0 {
			return time.Until(t)
		}
	}
	return 0
}
