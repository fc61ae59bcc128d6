package graphemu

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel is a Graph channel resource.
type Channel struct {
	ID              string    `json:"id"`
	CreatedDateTime time.Time `json:"createdDateTime"`
	DisplayName     string    `json:"displayName"`
	Description     string    `json:"description"`
	Email           string    `json:"email"`
	WebURL          string    `json:"webUrl"`
	MembershipType  string    `json:"membershipType"`
	IsArchived      bool      `json:"isArchived"`
	TenantID        string    `json:"tenantId"`

	teamID   string
	members  []Member
	messages []Message // oldest first
}

// Member is a Graph aadUserConversationMember.
type Member struct {
	ODataType   string   `json:"@odata.type"`
	ID          string   `json:"id"`
	Roles       []string `json:"roles"`
	DisplayName string   `json:"displayName"`
	UserID      string   `json:"userId"`
	TenantID    string   `json:"tenantId"`
}

const maxChannelNameLength = 50

// forbiddenNameChars are the characters Teams refuses in a channel name.
const forbiddenNameChars = "~#%&*{}+/\\:<>?|'\""

// ChannelNameProblem says why Teams would refuse a channel name ("" when it is valid).
func ChannelNameProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "displayName is required."
	case utf8.RuneCountInString(name) > maxChannelNameLength:
		return "displayName must be at most 50 characters."
	case strings.ContainsAny(name, forbiddenNameChars):
		return `displayName must not contain ~ # % & * { } + / \ : < > ? | ' "`
	case strings.TrimSpace(name) != name, strings.HasPrefix(name, "."), strings.HasSuffix(name, "."):
		return "displayName must not start or end with a space or a period."
	}
	return ""
}

func (e *Emulator) team(w http.ResponseWriter, r *http.Request) (*team, bool) { // callers hold e.mu
	t, ok := e.teams[r.PathValue("team")]
	if !ok {
		graphError(w, http.StatusNotFound, "NotFound", "No team found with Group Id "+r.PathValue("team"))
	}
	return t, ok
}

func (e *Emulator) channel(w http.ResponseWriter, r *http.Request) (*Channel, bool) { // callers hold e.mu
	t, ok := e.team(w, r)
	if !ok {
		return nil, false
	}
	for _, c := range t.channels {
		if c.ID == r.PathValue("channel") {
			return c, true
		}
	}
	graphError(w, http.StatusNotFound, "NotFound", "Channel "+r.PathValue("channel")+" not found in team "+t.id+".")
	return nil, false
}

// writableChannel is channel for a change: an archived channel answers 403 with refusal.
func (e *Emulator) writableChannel(w http.ResponseWriter, r *http.Request, refusal string) (*Channel, bool) { // callers hold e.mu
	c, ok := e.channel(w, r)
	if ok && c.IsArchived {
		graphError(w, http.StatusForbidden, "Forbidden", refusal)
		return nil, false
	}
	return c, ok
}

func (e *Emulator) channelJSON(r *http.Request, c *Channel) map[string]any {
	return map[string]any{
		"@odata.context":  e.odataContext(r, "teams('"+c.teamID+"')/channels/$entity"),
		"id":              c.ID,
		"createdDateTime": c.CreatedDateTime,
		"displayName":     c.DisplayName,
		"description":     c.Description,
		"email":           c.Email,
		"webUrl":          c.WebURL,
		"membershipType":  c.MembershipType,
		"isArchived":      c.IsArchived,
		"tenantId":        c.TenantID,
	}
}

type channelBody struct {
	DisplayName    *string `json:"displayName"`
	Description    *string `json:"description"`
	MembershipType *string `json:"membershipType"`
	Members        []struct {
		UserBind string   `json:"user@odata.bind"`
		Roles    []string `json:"roles"`
	} `json:"members"`
}

func (e *Emulator) createChannel(w http.ResponseWriter, r *http.Request) {
	var in channelBody
	if !decode(w, r, &in) {
		return
	}
	name := ""
	if in.DisplayName != nil {
		name = *in.DisplayName
	}
	if p := ChannelNameProblem(name); p != "" {
		graphError(w, http.StatusBadRequest, "BadRequest", p)
		return
	}
	membership := "standard"
	if in.MembershipType != nil {
		membership = *in.MembershipType
	}
	if membership != "standard" && membership != "private" {
		graphError(w, http.StatusBadRequest, "BadRequest", "membershipType must be standard or private.")
		return
	}
	var members []Member
	for _, m := range in.Members {
		id, ok := userIDFromBind(m.UserBind)
		if !ok {
			graphError(w, http.StatusBadRequest, "BadRequest", "members: user@odata.bind must reference users('id').")
			return
		}
		members = append(members, e.member(id, m.Roles))
	}
	if membership == "private" && len(members) == 0 {
		graphError(w, http.StatusBadRequest, "BadRequest", "A private channel needs at least one owner in members.")
		return
	}
	if membership == "standard" && len(members) > 0 {
		graphError(w, http.StatusBadRequest, "BadRequest", "members can only be given for a private channel.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.team(w, r)
	if !ok {
		return
	}
	for _, c := range t.channels {
		if strings.EqualFold(c.DisplayName, name) {
			graphError(w, http.StatusBadRequest, "NameAlreadyExists", "Channel name already existed, please use other name.")
			return
		}
	}
	id := "19:" + strings.ReplaceAll(newID(), "-", "") + "@thread.tacv2"
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	c := &Channel{
		ID:              id,
		CreatedDateTime: time.Now().UTC(),
		DisplayName:     name,
		Description:     desc,
		WebURL:          baseURL(r) + "/_emulator/teams/" + url.PathEscape(t.id) + "/channels/" + url.PathEscape(id),
		MembershipType:  membership,
		TenantID:        e.cfg.TenantID,
		teamID:          t.id,
		members:         members,
	}
	t.channels = append(t.channels, c)
	e.save()
	writeJSON(w, http.StatusCreated, e.channelJSON(r, c))
}

func userIDFromBind(bind string) (string, bool) {
	i := strings.Index(bind, "users('")
	if i < 0 || !strings.HasSuffix(bind, "')") {
		return "", false
	}
	id := bind[i+len("users('") : len(bind)-2]
	return id, id != ""
}

func (e *Emulator) member(userID string, roles []string) Member {
	if roles == nil {
		roles = []string{}
	}
	return Member{
		ODataType:   "#microsoft.graph.aadUserConversationMember",
		ID:          "MCMj" + strings.ReplaceAll(newID(), "-", ""),
		Roles:       roles,
		DisplayName: "User " + userID,
		UserID:      userID,
		TenantID:    e.cfg.TenantID,
	}
}

// listChannels supports $filter=displayName eq '…' (OData quotes doubled inside the literal).
func (e *Emulator) listChannels(w http.ResponseWriter, r *http.Request) {
	match := func(*Channel) bool { return true }
	if f := r.URL.Query().Get("$filter"); f != "" {
		lit, ok := strings.CutPrefix(strings.TrimSpace(f), "displayName eq '")
		if !ok || !strings.HasSuffix(lit, "'") {
			graphError(w, http.StatusBadRequest, "BadRequest", "Unsupported $filter: only displayName eq '…' is supported by the emulator.")
			return
		}
		want := strings.ReplaceAll(strings.TrimSuffix(lit, "'"), "''", "'")
		match = func(c *Channel) bool { return c.DisplayName == want }
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.team(w, r)
	if !ok {
		return
	}
	value := []map[string]any{}
	for _, c := range t.channels {
		if match(c) {
			j := e.channelJSON(r, c)
			delete(j, "@odata.context")
			value = append(value, j)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": e.odataContext(r, "teams('"+t.id+"')/channels"),
		"@odata.count":   len(value),
		"value":          value,
	})
}

func (e *Emulator) getChannel(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.channel(w, r); ok {
		writeJSON(w, http.StatusOK, e.channelJSON(r, c))
	}
}

func (e *Emulator) patchChannel(w http.ResponseWriter, r *http.Request) {
	var in channelBody
	if !decode(w, r, &in) {
		return
	}
	if in.MembershipType != nil || in.Members != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "membershipType and members cannot be changed.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.writableChannel(w, r, "The channel is archived.")
	if !ok {
		return
	}
	if in.DisplayName != nil {
		if p := ChannelNameProblem(*in.DisplayName); p != "" {
			graphError(w, http.StatusBadRequest, "BadRequest", p)
			return
		}
		for _, o := range e.teams[c.teamID].channels {
			if o != c && strings.EqualFold(o.DisplayName, *in.DisplayName) {
				graphError(w, http.StatusBadRequest, "NameAlreadyExists", "Channel name already existed, please use other name.")
				return
			}
		}
		c.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		c.Description = *in.Description
	}
	e.save()
	w.WriteHeader(http.StatusNoContent)
}

// archiveChannel archives a channel (idempotent, like Graph); Graph answers 202 Accepted.
func (e *Emulator) archiveChannel(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.channel(w, r)
	if !ok {
		return
	}
	c.IsArchived = true
	e.save()
	w.Header().Set("Location", "/teams('"+c.teamID+"')/operations('"+newID()+"')")
	w.WriteHeader(http.StatusAccepted)
}

func (e *Emulator) addMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ODataType string   `json:"@odata.type"`
		UserBind  string   `json:"user@odata.bind"`
		Roles     []string `json:"roles"`
	}
	if !decode(w, r, &in) {
		return
	}
	id, ok := userIDFromBind(in.UserBind)
	if !ok {
		graphError(w, http.StatusBadRequest, "BadRequest", "user@odata.bind must reference users('id').")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.channel(w, r)
	if !ok {
		return
	}
	if c.MembershipType != "private" {
		graphError(w, http.StatusBadRequest, "BadRequest", "Members can only be added to a private or shared channel.")
		return
	}
	for _, m := range c.members {
		if m.UserID == id {
			graphError(w, http.StatusConflict, "Conflict", "The user is already a member of the channel.")
			return
		}
	}
	m := e.member(id, in.Roles)
	c.members = append(c.members, m)
	e.save()
	writeJSON(w, http.StatusCreated, m)
}

func (e *Emulator) listMembers(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.channel(w, r)
	if !ok {
		return
	}
	value := append([]Member{}, c.members...)
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": e.odataContext(r, "teams('"+c.teamID+"')/channels('"+c.ID+"')/members"),
		"@odata.count":   len(value),
		"value":          value,
	})
}

// page applies $top (default 20, max 50 like Graph's channel messages) and $skiptoken.
func page(w http.ResponseWriter, r *http.Request) (skip, top int, ok bool) {
	top = 20
	if s := r.URL.Query().Get("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50 {
			graphError(w, http.StatusBadRequest, "BadRequest", "$top must be between 1 and 50.")
			return 0, 0, false
		}
		top = n
	}
	if s := r.URL.Query().Get("$skiptoken"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid $skiptoken.")
			return 0, 0, false
		}
		skip = n
	}
	return skip, top, true
}
