package graphemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// The directory: users, B2B invitations, groups with their members (and the delta query that
// tracks them), and the app role assignments of the application's service principal.

// Defaults of Config.ServicePrincipalID and Config.AppRoles: the application's service
// principal and the ids of its app roles partner, moderator and admin.
const (
	DefaultServicePrincipalID = "6d0f3c2a-41b7-4e58-9a1c-0b7e5f2d8c31"
	DefaultPartnerRoleID      = "0f5b1a7e-2c94-4d3b-8e61-7a2f9c4d1b01"
	DefaultModeratorRoleID    = "0f5b1a7e-2c94-4d3b-8e61-7a2f9c4d1b02"
	DefaultAdminRoleID        = "0f5b1a7e-2c94-4d3b-8e61-7a2f9c4d1b03"
	// DefaultAppRoles is the default app roles written as GRAPH_APP_ROLES.
	DefaultAppRoles = "partner=" + DefaultPartnerRoleID + ",moderator=" + DefaultModeratorRoleID + ",admin=" + DefaultAdminRoleID
	// DefaultDeltaPageSize is how many entries (a group, or a member in its members@delta) a
	// page of a delta query holds when Config.DeltaPageSize is 0.
	DefaultDeltaPageSize = 100
	// defaultAccessRoleID is the app role every application has ("default access").
	defaultAccessRoleID = "00000000-0000-0000-0000-000000000000"
	maxDeltaFilterIDs   = 50
)

// ParseAppRoles reads GRAPH_APP_ROLES: comma-separated value=id pairs, e.g.
// "partner=<uuid>,moderator=<uuid>".
func ParseAppRoles(s string) (map[string]string, error) {
	roles := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		value, id, ok := strings.Cut(pair, "=")
		value, id = strings.TrimSpace(value), strings.TrimSpace(id)
		if !ok || value == "" || id == "" {
			return nil, fmt.Errorf("app roles: %q is not value=id", pair)
		}
		if _, dup := roles[value]; dup {
			return nil, fmt.Errorf("app roles: %q given twice", value)
		}
		roles[value] = id
	}
	return roles, nil
}

// User is a Graph user of the emulated directory.
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
	// UserType is Member or Guest.
	UserType string `json:"userType"`
	// ExternalUserState is PendingAcceptance for a guest who has not redeemed the invitation
	// yet, then Accepted; empty for a member.
	ExternalUserState string    `json:"externalUserState,omitempty"`
	CreationType      string    `json:"creationType,omitempty"` // Invitation for an invited guest
	CreatedDateTime   time.Time `json:"createdDateTime"`
}

// Invitation is a Graph invitation (POST /invitations), kept as sent.
type Invitation struct {
	ID                      string `json:"id"`
	InvitedUserEmailAddress string `json:"invitedUserEmailAddress"`
	InvitedUserDisplayName  string `json:"invitedUserDisplayName"`
	InvitedUserType         string `json:"invitedUserType"`
	InviteRedirectURL       string `json:"inviteRedirectUrl"`
	InviteRedeemURL         string `json:"inviteRedeemUrl"`
	SendInvitationMessage   bool   `json:"sendInvitationMessage"`
	ResetRedemption         bool   `json:"resetRedemption"`
	// Status is PendingAcceptance, or Completed when the user had already redeemed.
	Status      string `json:"status"`
	InvitedUser struct {
		ID string `json:"id"`
	} `json:"invitedUser"`
	CreatedAt time.Time `json:"createdAt"` // not Graph's: when the emulator received it
}

// GroupState is a group of the directory with its members.
type GroupState struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Created     time.Time `json:"createdDateTime"`
	CreatedSeq  int64     `json:"createdSeq"`
	// Members lists every user ever a member, by the order of their last change; those
	// removed stay, Removed, for delta queries to report the removal.
	Members []Membership `json:"members"`
}

// MemberIDs are the ids of the group's current members.
func (g GroupState) MemberIDs() []string {
	var ids []string
	for _, m := range g.Members {
		if !m.Removed {
			ids = append(ids, m.UserID)
		}
	}
	return ids
}

// Membership is a user's membership of a group as delta queries track it.
type Membership struct {
	UserID string `json:"userId"`
	// Seq is the emulator's change sequence number when the user was last added or removed.
	Seq     int64 `json:"seq"`
	Removed bool  `json:"removed,omitempty"`
}

// AppRoleAssignment is a Graph appRoleAssignment of the application's service principal.
type AppRoleAssignment struct {
	ID                   string     `json:"id"`
	DeletedDateTime      *time.Time `json:"deletedDateTime"`
	AppRoleID            string     `json:"appRoleId"`
	CreatedDateTime      time.Time  `json:"createdDateTime"`
	PrincipalDisplayName string     `json:"principalDisplayName"`
	PrincipalID          string     `json:"principalId"`
	PrincipalType        string     `json:"principalType"`
	ResourceDisplayName  string     `json:"resourceDisplayName"`
	ResourceID           string     `json:"resourceId"`
}

type group struct {
	id, displayName string
	created         time.Time
	createdSeq      int64
	members         map[string]*Membership
}

func (g *group) state() GroupState {
	gs := GroupState{ID: g.id, DisplayName: g.displayName, Created: g.created, CreatedSeq: g.createdSeq, Members: []Membership{}}
	for _, m := range g.members {
		gs.Members = append(gs.Members, *m)
	}
	sort.Slice(gs.Members, func(i, j int) bool { return gs.Members[i].Seq < gs.Members[j].Seq })
	return gs
}

func notFound(w http.ResponseWriter, id string) {
	graphError(w, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

// tenantDomain is the tenant's initial domain, for user principal names.
func (e *Emulator) tenantDomain() string {
	return e.cfg.TenantID + ".onmicrosoft.com"
}

// userByMail finds a user by mail, ignoring case (callers hold e.mu).
func (e *Emulator) userByMail(addr string) *User {
	for _, u := range e.users {
		if u.Mail != "" && strings.EqualFold(u.Mail, addr) {
			return u
		}
	}
	return nil
}

// userByKey finds a user by id or user principal name, as /users/{id | userPrincipalName} does
// (callers hold e.mu).
func (e *Emulator) userByKey(key string) *User {
	if u, ok := e.users[key]; ok {
		return u
	}
	for _, u := range e.users {
		if strings.EqualFold(u.UserPrincipalName, key) {
			return u
		}
	}
	return nil
}

// userProperties are the user properties the emulator knows; defaultUserProperties are those
// Graph returns without $select (the others it knows nothing of are null).
var (
	userProperties        = []string{"id", "displayName", "mail", "userPrincipalName", "userType", "externalUserState", "creationType", "createdDateTime", "businessPhones", "givenName", "surname", "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage"}
	defaultUserProperties = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
)

// selected reads $select against known properties; nil when there is none.
func selected(w http.ResponseWriter, r *http.Request, known []string, typ string) ([]string, bool) {
	s := r.URL.Query().Get("$select")
	if s == "" {
		return nil, true
	}
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, p) })
		if i < 0 {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Could not find a property named '"+p+"' on type 'microsoft.graph."+typ+"'.")
			return nil, false
		}
		out = append(out, known[i])
	}
	return out, true
}

func userJSON(u *User, props []string) map[string]any {
	if props == nil {
		props = defaultUserProperties
	}
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	all := map[string]any{
		"id": u.ID, "displayName": null(u.DisplayName), "mail": null(u.Mail), "userPrincipalName": u.UserPrincipalName,
		"userType": u.UserType, "externalUserState": null(u.ExternalUserState), "creationType": null(u.CreationType),
		"createdDateTime": u.CreatedDateTime, "businessPhones": []string{},
		"givenName": nil, "surname": nil, "jobTitle": nil, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil,
	}
	out := map[string]any{"id": u.ID}
	for _, p := range props {
		out[p] = all[p]
	}
	return out
}

// getUser is GET /users/{id | userPrincipalName}, with $select.
func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request) {
	props, ok := selected(w, r, userProperties, "user")
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.userByKey(r.PathValue("user"))
	if u == nil {
		notFound(w, r.PathValue("user"))
		return
	}
	out := userJSON(u, props)
	out["@odata.context"] = e.odataContext(r, "users/$entity")
	writeJSON(w, http.StatusOK, out)
}

var eqFilter = regexp.MustCompile(`^(?i:(mail|userPrincipalName))\s+eq\s+'((?:[^']|'')*)'$`)

// listUsers is GET /users, with $select and a $filter on mail or userPrincipalName (eq); the
// emulator's directory is small, so there is a single page.
func (e *Emulator) listUsers(w http.ResponseWriter, r *http.Request) {
	props, ok := selected(w, r, userProperties, "user")
	if !ok {
		return
	}
	match := func(*User) bool { return true }
	if f := strings.TrimSpace(r.URL.Query().Get("$filter")); f != "" {
		m := eqFilter.FindStringSubmatch(f)
		if m == nil {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported $filter: the emulator supports mail eq '…' and userPrincipalName eq '…'.")
			return
		}
		want := strings.ReplaceAll(m[2], "''", "'")
		if strings.EqualFold(m[1], "mail") {
			match = func(u *User) bool { return strings.EqualFold(u.Mail, want) }
		} else {
			match = func(u *User) bool { return strings.EqualFold(u.UserPrincipalName, want) }
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	value := []map[string]any{}
	for _, id := range sortedKeys(e.users) {
		if u := e.users[id]; match(u) {
			value = append(value, userJSON(u, props))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": e.odataContext(r, "users"), "value": value})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// createInvitation is POST /invitations. The invitation of an address the directory already
// has (a guest invited before, or a member) returns that user, as Graph does, and sends the
// invitation again; a new address gets a new guest user, PendingAcceptance until redeemed
// (GET /_emulator/redeem/{invitation}).
func (e *Emulator) createInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		InvitedUserEmailAddress string `json:"invitedUserEmailAddress"`
		InvitedUserDisplayName  string `json:"invitedUserDisplayName"`
		InviteRedirectURL       string `json:"inviteRedirectUrl"`
		InvitedUserType         string `json:"invitedUserType"`
		SendInvitationMessage   bool   `json:"sendInvitationMessage"`
		ResetRedemption         bool   `json:"resetRedemption"`
	}
	if !decode(w, r, &in) {
		return
	}
	addr, err := mail.ParseAddress(in.InvitedUserEmailAddress)
	switch {
	case in.InvitedUserEmailAddress == "":
		graphError(w, http.StatusBadRequest, "BadRequest", "invitedUserEmailAddress is required.")
		return
	case err != nil || addr.Address != in.InvitedUserEmailAddress:
		graphError(w, http.StatusBadRequest, "BadRequest", "The specified email address is invalid: "+in.InvitedUserEmailAddress)
		return
	case in.InviteRedirectURL == "":
		graphError(w, http.StatusBadRequest, "BadRequest", "inviteRedirectUrl is required.")
		return
	}
	if u, err := url.Parse(in.InviteRedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		graphError(w, http.StatusBadRequest, "BadRequest", "inviteRedirectUrl must be an absolute http(s) URL.")
		return
	}
	if in.InvitedUserType == "" {
		in.InvitedUserType = "Guest"
	}
	if in.InvitedUserType != "Guest" && in.InvitedUserType != "Member" {
		graphError(w, http.StatusBadRequest, "BadRequest", "invitedUserType must be Guest or Member.")
		return
	}
	now := time.Now().UTC()
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.userByMail(in.InvitedUserEmailAddress)
	if u == nil {
		name := in.InvitedUserDisplayName
		if name == "" {
			name = in.InvitedUserEmailAddress
		}
		u = &User{
			ID: newID(), DisplayName: name, Mail: in.InvitedUserEmailAddress,
			UserPrincipalName: strings.ReplaceAll(in.InvitedUserEmailAddress, "@", "_") + "#EXT#@" + e.tenantDomain(),
			UserType:          in.InvitedUserType, ExternalUserState: "PendingAcceptance", CreationType: "Invitation",
			CreatedDateTime: now,
		}
		e.users[u.ID] = u
	} else if in.ResetRedemption && u.ExternalUserState != "" {
		u.ExternalUserState = "PendingAcceptance"
	}
	inv := &Invitation{
		ID: newID(), InvitedUserEmailAddress: in.InvitedUserEmailAddress, InvitedUserDisplayName: in.InvitedUserDisplayName,
		InvitedUserType: in.InvitedUserType, InviteRedirectURL: in.InviteRedirectURL,
		SendInvitationMessage: in.SendInvitationMessage, ResetRedemption: in.ResetRedemption,
		Status: "Completed", CreatedAt: now,
	}
	if u.ExternalUserState == "PendingAcceptance" {
		inv.Status = "PendingAcceptance"
	}
	inv.InvitedUser.ID = u.ID
	inv.InviteRedeemURL = baseURL(r) + "/_emulator/redeem/" + inv.ID
	e.invitations = append(e.invitations, inv)
	e.save()
	writeJSON(w, http.StatusCreated, invitationJSON(e.odataContext(r, "invitations/$entity"), inv))
}

func invitationJSON(context string, inv *Invitation) map[string]any {
	return map[string]any{
		"@odata.context":          context,
		"id":                      inv.ID,
		"inviteRedeemUrl":         inv.InviteRedeemURL,
		"invitedUserDisplayName":  inv.InvitedUserDisplayName,
		"invitedUserType":         inv.InvitedUserType,
		"invitedUserEmailAddress": inv.InvitedUserEmailAddress,
		"sendInvitationMessage":   inv.SendInvitationMessage,
		"resetRedemption":         inv.ResetRedemption,
		"inviteRedirectUrl":       inv.InviteRedirectURL,
		"status":                  inv.Status,
		"invitedUserMessageInfo":  map[string]any{"messageLanguage": nil, "ccRecipients": []any{}, "customizedMessageBody": nil},
		"invitedUser":             map[string]any{"id": inv.InvitedUser.ID},
	}
}

// redeem simulates the guest opening the invitation: the user becomes Accepted and lands on
// the invitation's redirect URL.
func (e *Emulator) redeem(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	var inv *Invitation
	for _, i := range e.invitations {
		if i.ID == r.PathValue("invitation") {
			inv = i
		}
	}
	if inv == nil {
		e.mu.Unlock()
		graphError(w, http.StatusNotFound, "NotFound", "Invitation "+r.PathValue("invitation")+" not found.")
		return
	}
	if u := e.users[inv.InvitedUser.ID]; u != nil && u.ExternalUserState == "PendingAcceptance" {
		u.ExternalUserState = "Accepted"
		e.save()
	}
	e.mu.Unlock()
	http.Redirect(w, r, inv.InviteRedirectURL, http.StatusFound)
}

// Groups.

func (e *Emulator) groupJSON(r *http.Request, g *group) map[string]any {
	return map[string]any{
		"@odata.context":  e.odataContext(r, "groups/$entity"),
		"id":              g.id,
		"displayName":     g.displayName,
		"createdDateTime": g.created,
		"description":     nil,
		"groupTypes":      []string{},
		"mailEnabled":     false,
		"securityEnabled": true,
	}
}

// getGroup is GET /groups/{id}.
func (e *Emulator) getGroup(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.groups[r.PathValue("group")]
	if !ok {
		notFound(w, r.PathValue("group"))
		return
	}
	writeJSON(w, http.StatusOK, e.groupJSON(r, g))
}

// deltaState is what a delta query's $skiptoken or $deltatoken carries (opaque to clients).
type deltaState struct {
	Initial bool     `json:"i,omitempty"` // the first round: the current state, not changes
	Since   int64    `json:"s,omitempty"` // changes after this sequence number
	UpTo    int64    `json:"u,omitempty"` // the round's snapshot (later changes go to the next round)
	IDs     []string `json:"g,omitempty"` // $filter=id eq …
	Select  []string `json:"p,omitempty"` // $select; empty: every tracked property
	// The page to serve starts at group Group, at its member User (when User is not empty,
	// the group object has already been served).
	Group string `json:"cg,omitempty"`
	User  string `json:"cu,omitempty"`
}

func (s deltaState) token() string {
	b, _ := json.Marshal(s)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseDeltaToken(tok string) (deltaState, bool) {
	var s deltaState
	b, err := base64.RawURLEncoding.DecodeString(tok)
	return s, err == nil && json.Unmarshal(b, &s) == nil
}

func (s deltaState) tracks(property string) bool {
	return len(s.Select) == 0 || slices.Contains(s.Select, property)
}

var (
	orSeparator = regexp.MustCompile(`(?i)\s+or\s+`)
	idEq        = regexp.MustCompile(`^(?i:id)\s+eq\s+'([^']+)'$`)
	groupDelta  = []string{"id", "displayName", "members"}
)

// groupsDelta is GET /groups/delta (the SDKs call /groups/delta()): $filter=id eq '…' (or'ed,
// at most 50) and $select among id, displayName and members; members@delta lists a group's
// members by id, removals with "@removed": {"reason": "deleted"}. The first round returns the
// current state, then a deltaLink; a deltaLink returns the changes since, then a new one;
// $deltatoken=latest returns only a deltaLink. Pages hold Config.DeltaPageSize entries (a
// group without members, or a member), and a group with many members comes back on several
// pages, as Graph does. Tokens do not expire.
func (e *Emulator) groupsDelta(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var st deltaState
	switch {
	case q.Get("$skiptoken") != "":
		s, ok := parseDeltaToken(q.Get("$skiptoken"))
		if !ok || s.UpTo == 0 && !s.Initial {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "The skip token is invalid.")
			return
		}
		st = s
	case q.Get("$deltatoken") != "" && q.Get("$deltatoken") != "latest":
		s, ok := parseDeltaToken(q.Get("$deltatoken"))
		if !ok || s.Initial {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "The delta token is invalid.")
			return
		}
		st = deltaState{Since: s.Since, IDs: s.IDs, Select: s.Select}
	default:
		st.Initial = true
		if f := strings.TrimSpace(q.Get("$filter")); f != "" {
			for _, part := range orSeparator.Split(f, -1) {
				m := idEq.FindStringSubmatch(strings.TrimSpace(part))
				if m == nil {
					graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported $filter: a delta query filters only on id eq '…'.")
					return
				}
				st.IDs = append(st.IDs, m[1])
			}
			if len(st.IDs) > maxDeltaFilterIDs {
				graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("A delta query filters at most %d ids.", maxDeltaFilterIDs))
				return
			}
		}
		props, ok := selected(w, r, groupDelta, "group")
		if !ok {
			return
		}
		st.Select = props
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]any{"@odata.context": e.odataContext(r, "groups")}
	if q.Get("$deltatoken") == "latest" {
		out["value"] = []any{}
		out["@odata.deltaLink"] = baseURL(r) + "/v1.0/groups/delta?$deltatoken=" + deltaState{Since: e.seq, IDs: st.IDs, Select: st.Select}.token()
		writeJSON(w, http.StatusOK, out)
		return
	}
	if st.UpTo == 0 {
		st.UpTo = e.seq // a new round: its snapshot
	}
	value, next := e.deltaPage(st)
	out["value"] = value
	if next != nil {
		out["@odata.nextLink"] = baseURL(r) + "/v1.0/groups/delta?$skiptoken=" + next.token()
	} else {
		out["@odata.deltaLink"] = baseURL(r) + "/v1.0/groups/delta?$deltatoken=" + deltaState{Since: st.UpTo, IDs: st.IDs, Select: st.Select}.token()
	}
	writeJSON(w, http.StatusOK, out)
}

// deltaPage serves one page of the round st and says where the next starts (nil: the round
// is over). Callers hold e.mu.
func (e *Emulator) deltaPage(st deltaState) ([]map[string]any, *deltaState) {
	size := e.cfg.DeltaPageSize
	if size <= 0 {
		size = DefaultDeltaPageSize
	}
	value := []map[string]any{}
	used := 0
	for _, id := range sortedKeys(e.groups) {
		g := e.groups[id]
		if id < st.Group || len(st.IDs) > 0 && !slices.Contains(st.IDs, id) || g.createdSeq > st.UpTo {
			continue
		}
		var entries []*Membership
		if st.tracks("members") {
			for _, uid := range sortedKeys(g.members) {
				m := g.members[uid]
				switch {
				case m.Seq > st.UpTo: // the next round's
				case st.Initial && m.Removed:
				case !st.Initial && m.Seq <= st.Since:
				case id == st.Group && st.User != "" && uid < st.User: // served on an earlier page
				default:
					entries = append(entries, m)
				}
			}
		}
		continuation := id == st.Group && st.User != ""
		changed := st.Initial || g.createdSeq > st.Since || len(entries) > 0
		if !changed || continuation && len(entries) == 0 {
			continue
		}
		if used >= size {
			return value, &deltaState{Initial: st.Initial, Since: st.Since, UpTo: st.UpTo, IDs: st.IDs, Select: st.Select, Group: id}
		}
		obj := map[string]any{"id": id}
		if st.tracks("displayName") {
			obj["displayName"] = g.displayName
		}
		var members []map[string]any
		for i, m := range entries {
			if used >= size && len(members) > 0 {
				obj["members@delta"] = members
				value = append(value, obj)
				return value, &deltaState{Initial: st.Initial, Since: st.Since, UpTo: st.UpTo, IDs: st.IDs, Select: st.Select, Group: id, User: entries[i].UserID}
			}
			entry := map[string]any{"@odata.type": "#microsoft.graph.user", "id": m.UserID}
			if m.Removed {
				entry["@removed"] = map[string]any{"reason": "deleted"}
			}
			members = append(members, entry)
			used++
		}
		if len(members) > 0 {
			obj["members@delta"] = members
		} else {
			used++
		}
		value = append(value, obj)
	}
	return value, nil
}

// Emulator control of groups.

// EnsureGroup creates an empty group named after its id, unless it exists.
func (e *Emulator) EnsureGroup(groupID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.groups[groupID]; !ok {
		e.groups[groupID] = &group{id: groupID, displayName: groupID, created: time.Now().UTC(), createdSeq: e.nextSeq(),
			members: map[string]*Membership{}}
		e.save()
	}
}

// AddGroupMember makes a user a member of a group, both created when missing: the user is u
// (by u.ID, else by u.Mail, else a new member user with a new id; the fields given update an
// existing user). A member already there stays one, unchanged.
func (e *Emulator) AddGroupMember(groupID string, u User) (User, error) {
	if groupID == "" {
		return User{}, &Error{Status: http.StatusBadRequest, Code: "BadRequest", Message: "A group id is required."}
	}
	now := time.Now().UTC()
	e.mu.Lock()
	defer e.mu.Unlock()
	user := e.users[u.ID]
	if user == nil && u.ID == "" && u.Mail != "" {
		user = e.userByMail(u.Mail)
	}
	if user == nil {
		user = &User{ID: u.ID, UserType: "Member", CreatedDateTime: now}
		if user.ID == "" {
			user.ID = newID()
		}
		e.users[user.ID] = user
	}
	for dst, src := range map[*string]string{&user.DisplayName: u.DisplayName, &user.Mail: u.Mail, &user.UserPrincipalName: u.UserPrincipalName, &user.UserType: u.UserType} {
		if src != "" {
			*dst = src
		}
	}
	if user.DisplayName == "" {
		user.DisplayName = "User " + user.ID
	}
	if user.UserPrincipalName == "" {
		user.UserPrincipalName = user.ID + "@" + e.tenantDomain()
	}
	g, ok := e.groups[groupID]
	if !ok {
		g = &group{id: groupID, displayName: groupID, created: now, createdSeq: e.nextSeq(), members: map[string]*Membership{}}
		e.groups[groupID] = g
	}
	if m, ok := g.members[user.ID]; !ok || m.Removed {
		g.members[user.ID] = &Membership{UserID: user.ID, Seq: e.nextSeq()}
	}
	e.save()
	return *user, nil
}

// RemoveGroupMember removes a member from a group; delta queries report it @removed.
func (e *Emulator) RemoveGroupMember(groupID, userID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.groups[groupID]
	if !ok {
		return &Error{Status: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: "Group " + groupID + " not found."}
	}
	m, ok := g.members[userID]
	if !ok || m.Removed {
		return &Error{Status: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: "User " + userID + " is not a member of group " + groupID + "."}
	}
	m.Removed, m.Seq = true, e.nextSeq()
	e.save()
	return nil
}

func (e *Emulator) adminAddGroupMember(w http.ResponseWriter, r *http.Request) {
	var u User
	if !decode(w, r, &u) {
		return
	}
	user, err := e.AddGroupMember(r.PathValue("group"), u)
	if err != nil {
		writeEmulatorError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, user)
}

func (e *Emulator) adminRemoveGroupMember(w http.ResponseWriter, r *http.Request) {
	if err := e.RemoveGroupMember(r.PathValue("group"), r.PathValue("user")); err != nil {
		writeEmulatorError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeEmulatorError(w http.ResponseWriter, err error) {
	if e, ok := err.(*Error); ok {
		graphError(w, e.Status, e.Code, e.Message)
		return
	}
	graphError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
}

// App role assignments.

// servicePrincipal answers 404 unless the path names the application's service principal.
func (e *Emulator) servicePrincipal(w http.ResponseWriter, r *http.Request) bool {
	if !strings.EqualFold(r.PathValue("sp"), e.cfg.ServicePrincipalID) {
		notFound(w, r.PathValue("sp"))
		return false
	}
	return true
}

var principalFilter = regexp.MustCompile(`^(?i:principalId)\s+eq\s+'?([0-9A-Fa-f-]+)'?$`)

// listAppRoleAssignedTo is GET /servicePrincipals/{id}/appRoleAssignedTo, with
// $filter=principalId eq {id}.
func (e *Emulator) listAppRoleAssignedTo(w http.ResponseWriter, r *http.Request) {
	if !e.servicePrincipal(w, r) {
		return
	}
	match := func(*AppRoleAssignment) bool { return true }
	if f := strings.TrimSpace(r.URL.Query().Get("$filter")); f != "" {
		m := principalFilter.FindStringSubmatch(f)
		if m == nil {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported $filter: the emulator supports principalId eq {id}.")
			return
		}
		match = func(a *AppRoleAssignment) bool { return strings.EqualFold(a.PrincipalID, m[1]) }
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	value := []AppRoleAssignment{}
	for _, a := range e.assignments {
		if match(a) {
			value = append(value, *a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": e.odataContext(r, "servicePrincipals('"+e.cfg.ServicePrincipalID+"')/appRoleAssignedTo"),
		"value":          value,
	})
}

// assignAppRole is POST /servicePrincipals/{id}/appRoleAssignedTo. An assignment that exists
// already is refused as Graph refuses it: 400 Request_BadRequest "Permission being assigned
// already exists on the object."
func (e *Emulator) assignAppRole(w http.ResponseWriter, r *http.Request) {
	if !e.servicePrincipal(w, r) {
		return
	}
	var in struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.PrincipalID == "" || in.ResourceID == "" || in.AppRoleID == "":
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "principalId, resourceId and appRoleId are required.")
		return
	case !strings.EqualFold(in.ResourceID, e.cfg.ServicePrincipalID):
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "resourceId must be the service principal the assignment is posted to.")
		return
	case !strings.EqualFold(in.AppRoleID, defaultAccessRoleID) && !slices.ContainsFunc(sortedKeys(e.cfg.AppRoles), func(v string) bool { return strings.EqualFold(e.cfg.AppRoles[v], in.AppRoleID) }):
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned was not found on application '"+e.cfg.ClientID+"'.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	name, typ := "", ""
	if u := e.users[in.PrincipalID]; u != nil {
		name, typ = u.DisplayName, "User"
	} else if g := e.groups[in.PrincipalID]; g != nil {
		name, typ = g.displayName, "Group"
	} else {
		notFound(w, in.PrincipalID)
		return
	}
	for _, a := range e.assignments {
		if strings.EqualFold(a.PrincipalID, in.PrincipalID) && strings.EqualFold(a.AppRoleID, in.AppRoleID) {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned already exists on the object.")
			return
		}
	}
	a := &AppRoleAssignment{
		ID: assignmentID(), AppRoleID: strings.ToLower(in.AppRoleID), CreatedDateTime: time.Now().UTC(),
		PrincipalDisplayName: name, PrincipalID: in.PrincipalID, PrincipalType: typ,
		ResourceDisplayName: e.cfg.AppDisplayName, ResourceID: e.cfg.ServicePrincipalID,
	}
	e.assignments = append(e.assignments, a)
	e.save()
	out := map[string]any{"@odata.context": e.odataContext(r, "servicePrincipals('"+e.cfg.ServicePrincipalID+"')/appRoleAssignedTo/$entity")}
	b, _ := json.Marshal(a)
	_ = json.Unmarshal(b, &out)
	writeJSON(w, http.StatusCreated, out)
}

// assignmentID looks like Graph's: 43 characters of URL-safe base64.
func assignmentID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
