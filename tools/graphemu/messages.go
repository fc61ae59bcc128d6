package graphemu

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Message is a Graph chatMessage posted in a channel.
type Message struct {
	ID                   string       `json:"id"`
	ReplyToID            *string      `json:"replyToId"`
	Etag                 string       `json:"etag"`
	MessageType          string       `json:"messageType"`
	CreatedDateTime      time.Time    `json:"createdDateTime"`
	LastModifiedDateTime time.Time    `json:"lastModifiedDateTime"`
	Subject              *string      `json:"subject"`
	Importance           string       `json:"importance"`
	Locale               string       `json:"locale"`
	WebURL               string       `json:"webUrl"`
	ChannelIdentity      ChannelIdent `json:"channelIdentity"`
	From                 MessageFrom  `json:"from"`
	Body                 MessageBody  `json:"body"`
	Attachments          []any        `json:"attachments"`
	Mentions             []any        `json:"mentions"`
	Reactions            []any        `json:"reactions"`
}

// ChannelIdent is chatMessage.channelIdentity.
type ChannelIdent struct {
	TeamID    string `json:"teamId"`
	ChannelID string `json:"channelId"`
}

// MessageFrom is chatMessage.from: a user or an application.
type MessageFrom struct {
	User        *Identity `json:"user"`
	Application *Identity `json:"application"`
}

// Identity is a Graph identity.
type Identity struct {
	ODataType               string `json:"@odata.type"`
	ID                      string `json:"id"`
	DisplayName             string `json:"displayName"`
	UserIdentityType        string `json:"userIdentityType,omitempty"`
	ApplicationIdentityType string `json:"applicationIdentityType,omitempty"`
}

// MessageBody is chatMessage.body.
type MessageBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// UserMessage is the body of POST /_emulator/teams/{team}/channels/{channel}/messages.
type UserMessage struct {
	From struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	} `json:"from"`
	Text string `json:"text"`
}

// addMessage appends a message to a channel (callers hold e.mu).
func (e *Emulator) addMessage(r *http.Request, c *Channel, from MessageFrom, body MessageBody) Message {
	now := time.Now().UTC()
	id := strconv.FormatInt(now.UnixMilli()*1000+e.nextSeq()%1000, 10)
	m := Message{
		ID: id, Etag: id, MessageType: "message",
		CreatedDateTime: now, LastModifiedDateTime: now,
		Importance: "normal", Locale: "en-us",
		WebURL:          baseURL(r) + "/_emulator/teams/" + url.PathEscape(c.teamID) + "/channels/" + url.PathEscape(c.ID) + "?messageId=" + id,
		ChannelIdentity: ChannelIdent{TeamID: c.teamID, ChannelID: c.ID},
		From:            from, Body: body,
		Attachments: []any{}, Mentions: []any{}, Reactions: []any{},
	}
	c.messages = append(c.messages, m)
	return m
}

func (e *Emulator) appPostMessage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Subject *string     `json:"subject"`
		Body    MessageBody `json:"body"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Body.Content == "" {
		graphError(w, http.StatusBadRequest, "BadRequest", "body.content is required.")
		return
	}
	if in.Body.ContentType == "" {
		in.Body.ContentType = "text"
	}
	if in.Body.ContentType != "text" && in.Body.ContentType != "html" {
		graphError(w, http.StatusBadRequest, "BadRequest", "body.contentType must be text or html.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.writableChannel(w, r, "Cannot post to an archived channel.")
	if !ok {
		return
	}
	app := &Identity{ODataType: "#microsoft.graph.identity", ID: e.cfg.ClientID, DisplayName: e.cfg.AppDisplayName, ApplicationIdentityType: "bot"}
	m := e.addMessage(r, c, MessageFrom{Application: app}, in.Body)
	m.Subject = in.Subject
	c.messages[len(c.messages)-1] = m
	e.save()
	writeJSON(w, http.StatusCreated, m)
}

// userPostMessage simulates a person writing in a channel: the message is created and the
// channel's subscribers are notified.
func (e *Emulator) userPostMessage(w http.ResponseWriter, r *http.Request) {
	var in UserMessage
	if !decode(w, r, &in) {
		return
	}
	if in.From.ID == "" || in.Text == "" {
		graphError(w, http.StatusBadRequest, "BadRequest", "from.id and text are required.")
		return
	}
	m, status, code, msg := e.postUser(r, r.PathValue("team"), r.PathValue("channel"), in)
	if status != http.StatusCreated {
		graphError(w, status, code, msg)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (e *Emulator) postUser(r *http.Request, teamID, channelID string, in UserMessage) (Message, int, string, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.teams[teamID]
	if !ok {
		return Message{}, http.StatusNotFound, "NotFound", "No team found with Group Id " + teamID
	}
	var c *Channel
	for _, x := range t.channels {
		if x.ID == channelID {
			c = x
		}
	}
	if c == nil {
		return Message{}, http.StatusNotFound, "NotFound", "Channel " + channelID + " not found."
	}
	if c.IsArchived {
		return Message{}, http.StatusForbidden, "Forbidden", "Cannot post to an archived channel."
	}
	user := &Identity{ODataType: "#microsoft.graph.teamworkUserIdentity", ID: in.From.ID, DisplayName: in.From.DisplayName, UserIdentityType: "aadUser"}
	m := e.addMessage(r, c, MessageFrom{User: user}, MessageBody{ContentType: "html", Content: "<p>" + html.EscapeString(in.Text) + "</p>"})
	e.notify(c, m)
	e.save()
	return m, http.StatusCreated, "", ""
}

func (e *Emulator) listMessages(w http.ResponseWriter, r *http.Request) {
	skip, top, ok := page(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.channel(w, r)
	if !ok {
		return
	}
	// Newest first.
	value := []Message{}
	for i := len(c.messages) - 1 - skip; i >= 0 && len(value) < top; i-- {
		value = append(value, c.messages[i])
	}
	out := map[string]any{
		"@odata.context": e.odataContext(r, "teams('"+c.teamID+"')/channels('"+c.ID+"')/messages"),
		"@odata.count":   len(c.messages),
		"value":          value,
	}
	if skip+len(value) < len(c.messages) {
		q := url.Values{"$top": {strconv.Itoa(top)}, "$skiptoken": {strconv.Itoa(skip + len(value))}}
		out["@odata.nextLink"] = baseURL(r) + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) getMessage(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.channel(w, r)
	if !ok {
		return
	}
	for _, m := range c.messages {
		if m.ID == r.PathValue("message") {
			writeJSON(w, http.StatusOK, m)
			return
		}
	}
	graphError(w, http.StatusNotFound, "NotFound", "Message "+r.PathValue("message")+" not found.")
}
