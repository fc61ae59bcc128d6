package teams

// The directory of people: B2B guests invited into the tenant, their app role for the
// platform, and the members of the Entra groups the platform mirrors.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.temporal.io/sdk/temporal"
)

// ErrTypeNotConfigured is an activity called while the worker lacks its configuration
// (invitations without GRAPH_APP_SERVICE_PRINCIPAL_ID and GRAPH_APP_ROLES, or without a
// redirect URL): not retried; details: GraphError.
const ErrTypeNotConfigured = "TeamsNotConfigured"

// Platform roles, the keys of Config.AppRoles.
const (
	RolePartner   = "partner"
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
)

var platformRoles = []string{RolePartner, RoleModerator, RoleAdmin}

// Invitations tells whether guest invitations and app role assignments are configured: the
// service principal and the app roles are set (InviteGuest and AssignAppRole answer
// ErrTypeNotConfigured otherwise).
func (c Config) Invitations() bool {
	return c.AppServicePrincipalID != "" && len(c.AppRoles) > 0
}

// checkInvitations refuses a half or malformed configuration of invitations: Graph takes the
// ids as UUIDs, and every platform role needs its app role.
func (c Config) checkInvitations() error {
	if c.InviteRedirectURL != "" {
		if u, err := url.Parse(c.InviteRedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("GRAPH_INVITE_REDIRECT_URL %q is not an absolute http(s) URL", c.InviteRedirectURL)
		}
	}
	if c.AppServicePrincipalID == "" && len(c.AppRoles) == 0 {
		return nil
	}
	if c.AppServicePrincipalID == "" || len(c.AppRoles) == 0 {
		return errors.New("GRAPH_APP_SERVICE_PRINCIPAL_ID and GRAPH_APP_ROLES go together")
	}
	if _, err := uuid.Parse(c.AppServicePrincipalID); err != nil {
		return fmt.Errorf("GRAPH_APP_SERVICE_PRINCIPAL_ID %q is not an object id", c.AppServicePrincipalID)
	}
	for role, id := range c.AppRoles {
		if !slices.Contains(platformRoles, role) {
			return fmt.Errorf("GRAPH_APP_ROLES: unknown role %q (want %s)", role, strings.Join(platformRoles, ", "))
		}
		if _, err := uuid.Parse(id); err != nil {
			return fmt.Errorf("GRAPH_APP_ROLES: %s=%q is not an app role id", role, id)
		}
	}
	for _, role := range platformRoles {
		if _, ok := c.AppRoles[role]; !ok {
			return fmt.Errorf("GRAPH_APP_ROLES: no app role for %s", role)
		}
	}
	return nil
}

// parseAppRoles reads GRAPH_APP_ROLES: "partner=<uuid>,moderator=<uuid>,admin=<uuid>".
func parseAppRoles(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	roles := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		role, id, ok := strings.Cut(strings.TrimSpace(pair), "=")
		role, id = strings.ToLower(strings.TrimSpace(role)), strings.TrimSpace(id)
		if !ok || role == "" || id == "" {
			return nil, fmt.Errorf("GRAPH_APP_ROLES: %q is not role=<app role id>", strings.TrimSpace(pair))
		}
		if _, dup := roles[role]; dup {
			return nil, fmt.Errorf("GRAPH_APP_ROLES: %s given twice", role)
		}
		roles[role] = id
	}
	return roles, nil
}

func notConfigured(what string) error {
	return temporal.NewNonRetryableApplicationError("teams: "+what+" is not configured", ErrTypeNotConfigured, nil, GraphError{Code: "NotConfigured", Message: what})
}

func invalidInput(field, msg string) error {
	return temporal.NewNonRetryableApplicationError("teams: "+msg, ErrTypeRejected, nil, GraphError{Code: field, Message: msg})
}

func (a *Activities) checkInvitationsConfigured() error {
	if !a.cfg.Invitations() {
		return notConfigured("guest invitation (GRAPH_APP_SERVICE_PRINCIPAL_ID, GRAPH_APP_ROLES)")
	}
	return nil
}

// InviteGuestInput is a person to invite into the tenant as a B2B guest.
type InviteGuestInput struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	// RedirectURL is where the guest lands once the invitation is redeemed; empty:
	// Config.InviteRedirectURL.
	RedirectURL string `json:"redirectUrl,omitempty"`
}

// InviteGuestOutput is the person's user in the tenant.
type InviteGuestOutput struct {
	UserID string `json:"userId"` // the Entra object id
	// Invited says that this call had Graph send an invitation; false when the directory
	// already had a user with this address (a guest invited before, or a member of the
	// tenant), returned as it is.
	Invited bool `json:"invited"`
}

// InviteGuest returns the tenant's user for an email address, inviting the person as a B2B
// guest (POST /invitations, Graph sending the invitation email) when the directory has no
// user with that address yet. Graph's own answer to a second invitation of an address is its
// existing user, but it sends the email again: the address is looked up first so that a
// retried activity, or a person invited twice, gets one email.
func (a *Activities) InviteGuest(ctx context.Context, in InviteGuestInput) (InviteGuestOutput, error) {
	if err := a.checkInvitationsConfigured(); err != nil {
		return InviteGuestOutput{}, err
	}
	email := strings.TrimSpace(in.Email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return InviteGuestOutput{}, invalidInput("email", fmt.Sprintf("%q is not an email address", in.Email))
	}
	redirect := in.RedirectURL
	if redirect == "" {
		redirect = a.cfg.InviteRedirectURL
	}
	if redirect == "" {
		return InviteGuestOutput{}, notConfigured("the invitation redirect URL (GRAPH_INVITE_REDIRECT_URL)")
	}
	filter := "mail eq '" + strings.ReplaceAll(email, "'", "''") + "'"
	found, err := a.graph.Users().Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: []string{"id", "mail"}},
	})
	if err != nil {
		return InviteGuestOutput{}, a.classify(ctx, "find user by mail", err)
	}
	for _, u := range found.GetValue() {
		if strings.EqualFold(deref(u.GetMail()), email) && deref(u.GetId()) != "" {
			return InviteGuestOutput{UserID: deref(u.GetId())}, nil
		}
	}
	body := models.NewInvitation()
	send := true
	body.SetInvitedUserEmailAddress(&email)
	if name := strings.TrimSpace(in.Name); name != "" {
		body.SetInvitedUserDisplayName(&name)
	}
	body.SetInviteRedirectUrl(&redirect)
	body.SetSendInvitationMessage(&send)
	inv, err := a.graph.Invitations().Post(ctx, body, nil)
	if err != nil {
		return InviteGuestOutput{}, a.classify(ctx, "invite guest", err)
	}
	var id string
	if u := inv.GetInvitedUser(); u != nil {
		id = deref(u.GetId())
	}
	if id == "" {
		return InviteGuestOutput{}, errors.New("teams: invite guest: Graph answered no invited user id")
	}
	return InviteGuestOutput{UserID: id, Invited: true}, nil
}

// AssignAppRoleInput gives a user the app role of a platform role.
type AssignAppRoleInput struct {
	UserID string `json:"userId"` // the Entra object id
	Role   string `json:"role"`   // RolePartner, RoleModerator or RoleAdmin
}

// AssignAppRoleOutput is the assignment.
type AssignAppRoleOutput struct {
	AppRoleID string `json:"appRoleId"`
	// AlreadyAssigned says the user had the app role already (maybe from an earlier attempt
	// whose answer was lost).
	AlreadyAssigned bool `json:"alreadyAssigned"`
}

// AssignAppRole assigns our application's app role for in.Role to the user
// (POST /servicePrincipals/{id}/appRoleAssignedTo). Graph refuses an assignment that exists
// with 400 "Permission being assigned already exists on the object.": that is success. A user
// Graph does not know yet (an invitation a moment ago, still replicating) is retried.
func (a *Activities) AssignAppRole(ctx context.Context, in AssignAppRoleInput) (AssignAppRoleOutput, error) {
	if err := a.checkInvitationsConfigured(); err != nil {
		return AssignAppRoleOutput{}, err
	}
	roleID, ok := a.cfg.AppRoles[in.Role]
	if !ok {
		return AssignAppRoleOutput{}, invalidInput("role", fmt.Sprintf("unknown role %q (want %s)", in.Role, strings.Join(platformRoles, ", ")))
	}
	principal, err := uuid.Parse(in.UserID)
	if err != nil {
		return AssignAppRoleOutput{}, invalidInput("userId", fmt.Sprintf("%q is not an Entra object id", in.UserID))
	}
	resource, appRole := uuid.MustParse(a.cfg.AppServicePrincipalID), uuid.MustParse(roleID) // checked by New
	body := models.NewAppRoleAssignment()
	body.SetPrincipalId(&principal)
	body.SetResourceId(&resource)
	body.SetAppRoleId(&appRole)
	_, err = a.graph.ServicePrincipals().ByServicePrincipalId(a.cfg.AppServicePrincipalID).AppRoleAssignedTo().Post(ctx, body, nil)
	if err == nil {
		return AssignAppRoleOutput{AppRoleID: roleID}, nil
	}
	e, isAPI := asAPIError(err)
	switch msg := graphMessage(err); {
	case isAPI && e.GetStatusCode() == http.StatusBadRequest && strings.Contains(msg, "already exists"):
		return AssignAppRoleOutput{AppRoleID: roleID, AlreadyAssigned: true}, nil
	case isAPI && (e.GetStatusCode() == http.StatusNotFound || e.GetStatusCode() == http.StatusBadRequest) && strings.Contains(strings.ToLower(msg), strings.ToLower(in.UserID)):
		detail := GraphError{Status: e.GetStatusCode(), Code: graphCode(err), Message: msg}
		return AssignAppRoleOutput{}, temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("teams: assign app role: Graph does not know user %s yet: %s", in.UserID, msg), ErrTypeUnavailable,
			temporal.ApplicationErrorOptions{Cause: err, Details: []any{detail}})
	}
	return AssignAppRoleOutput{}, a.classify(ctx, "assign app role", err)
}

// GroupMembersDeltaInput names an Entra group and, after the first call, the DeltaLink the
// previous call returned.
type GroupMembersDeltaInput struct {
	GroupID   string `json:"groupId"`
	DeltaLink string `json:"deltaLink,omitempty"` // empty: read every member
}

// GroupMember is a user member of a group.
type GroupMember struct {
	ID                string `json:"id"` // the Entra object id
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// GroupMembersDeltaOutput is what changed in the group since DeltaLink.
type GroupMembersDeltaOutput struct {
	// Members are the users who joined (every member when Full).
	Members []GroupMember `json:"members"`
	// Removed are the ids of the users who left (or whose user was deleted).
	Removed []string `json:"removed"`
	// DeltaLink is the input of the next call.
	DeltaLink string `json:"deltaLink"`
	// Full says Members is the whole group: a first read, or Graph asked for one (a delta
	// token it no longer knows, e.g. older than its seven days). Anyone the caller holds who
	// is not in Members has left.
	Full bool `json:"full"`
}

// userReads is how many users GroupMembersDelta reads at once.
const userReads = 4

// GroupMembersDelta reads the members of an Entra group through Graph's delta query on groups
// (GET /groups/delta?$filter=id eq '{id}'&$select=members, its nextLinks, then its deltaLink):
// without DeltaLink every member, with it only the members who joined or left since. Delta is
// used for the first read too, rather than GET /groups/{id}/members, because only a delta
// round ends with the deltaLink of the next one, and it sees exactly the state that link
// starts from. members@delta gives ids only (and lists nested groups and devices too, left
// out here: direct user members only): each user who joined is read with GET /users/{id}
// (User.Read.All; POST /directoryObjects/getByIds would read 1,000 at a time but needs
// Directory.Read.All). Each call reads the group once more from DeltaLink, so a retried call
// gives the same answer; the caller keeps the DeltaLink of the last call that succeeded.
func (a *Activities) GroupMembersDelta(ctx context.Context, in GroupMembersDeltaInput) (GroupMembersDeltaOutput, error) {
	if in.GroupID == "" {
		return GroupMembersDeltaOutput{}, invalidInput("groupId", "groupId is required")
	}
	if in.DeltaLink != "" {
		if err := a.checkDeltaLink(in.DeltaLink); err != nil {
			return GroupMembersDeltaOutput{}, invalidInput("deltaLink", err.Error())
		}
		out, err := a.groupDeltaRound(ctx, in.GroupID, in.DeltaLink)
		if err == nil {
			return out, nil
		}
		if !resyncRequired(err) {
			return GroupMembersDeltaOutput{}, a.deltaError(ctx, in.GroupID, err)
		}
		// Graph no longer knows the token: read the whole group again.
	}
	// A delta filtered on an id that is not a group's answers an empty round: check first.
	if _, err := a.graph.Groups().ByGroupId(in.GroupID).Get(ctx, &groups.GroupItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
	}); err != nil {
		return GroupMembersDeltaOutput{}, a.classify(ctx, "get group", err)
	}
	out, err := a.groupDeltaRound(ctx, in.GroupID, "")
	if err != nil {
		return GroupMembersDeltaOutput{}, a.deltaError(ctx, in.GroupID, err)
	}
	out.Full = true
	return out, nil
}

// errGroupRemoved is a group the delta reports deleted.
var errGroupRemoved = errors.New("the group was deleted")

func (a *Activities) deltaError(ctx context.Context, groupID string, err error) error {
	if errors.Is(err, errGroupRemoved) {
		return temporal.NewNonRetryableApplicationError("teams: group members delta: group "+groupID+" was deleted", ErrTypeRejected, err,
			GraphError{Status: http.StatusNotFound, Code: "GroupRemoved", Message: err.Error()})
	}
	return a.classify(ctx, "group members delta", err)
}

// groupDeltaRound runs a delta round from link (the first round when empty) to its
// deltaLink and reads the users who joined. Errors are Graph's, unclassified.
func (a *Activities) groupDeltaRound(ctx context.Context, groupID, link string) (GroupMembersDeltaOutput, error) {
	delta := a.graph.Groups().Delta()
	var page groups.DeltaGetResponseable
	var err error
	if link == "" {
		filter := "id eq '" + strings.ReplaceAll(groupID, "'", "''") + "'"
		page, err = delta.GetAsDeltaGetResponse(ctx, &groups.DeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.DeltaRequestBuilderGetQueryParameters{Filter: &filter, Select: []string{"members"}},
		})
	} else {
		page, err = delta.WithUrl(link).GetAsDeltaGetResponse(ctx, nil)
	}
	// A member may come on several pages (a large group is split), the last word counting.
	present := map[string]bool{}
	var order []string
	var out GroupMembersDeltaOutput
	for {
		if err != nil {
			return out, err
		}
		for _, g := range page.GetValue() {
			if !strings.EqualFold(deref(g.GetId()), groupID) {
				continue
			}
			extra := g.GetAdditionalData()
			if _, removed := extra["@removed"]; removed {
				return out, errGroupRemoved
			}
			entries, _ := extra["members@delta"].([]any)
			for _, entry := range entries {
				m, _ := entry.(map[string]any)
				id, typ := str(m["id"]), str(m["@odata.type"])
				if id == "" || typ != "" && !strings.EqualFold(typ, "#microsoft.graph.user") {
					continue
				}
				if _, seen := present[id]; !seen {
					order = append(order, id)
				}
				_, removed := m["@removed"]
				present[id] = !removed
			}
		}
		next := deref(page.GetOdataNextLink())
		if next == "" {
			out.DeltaLink = deref(page.GetOdataDeltaLink())
			break
		}
		page, err = delta.WithUrl(next).GetAsDeltaGetResponse(ctx, nil)
	}
	if out.DeltaLink == "" {
		return out, errors.New("the delta query ended without a deltaLink")
	}
	var joined []string
	out.Removed = []string{}
	for _, id := range order {
		if present[id] {
			joined = append(joined, id)
		} else {
			out.Removed = append(out.Removed, id)
		}
	}
	members, err := a.readUsers(ctx, joined)
	if err != nil {
		return out, err
	}
	out.Members = members
	return out, nil
}

// readUsers reads users, userReads at a time; a user deleted meanwhile is left out (the next
// delta reports it removed).
func (a *Activities) readUsers(ctx context.Context, ids []string) ([]GroupMember, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read := make([]*GroupMember, len(ids))
	sem := make(chan struct{}, userReads)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i, id := range ids {
		sem <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			u, err := a.graph.Users().ByUserId(id).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName", "mail", "userPrincipalName"}},
			})
			if e, ok := asAPIError(err); ok && e.GetStatusCode() == http.StatusNotFound {
				return
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
				return
			}
			read[i] = &GroupMember{ID: id, DisplayName: deref(u.GetDisplayName()), Mail: deref(u.GetMail()), UserPrincipalName: deref(u.GetUserPrincipalName())}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	members := []GroupMember{}
	for _, m := range read {
		if m != nil {
			members = append(members, *m)
		}
	}
	return members, nil
}

// checkDeltaLink accepts only a link to Graph's group delta: the link is sent with the
// application's token.
func (a *Activities) checkDeltaLink(link string) error {
	u, err := url.Parse(link)
	base, berr := url.Parse(strings.TrimSuffix(a.cfg.BaseURL, "/"))
	if err != nil || berr != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) ||
		!strings.HasPrefix(u.Path, base.Path+"/groups/") || !strings.Contains(u.Path, "delta") {
		return fmt.Errorf("%q is not a Graph group delta link", link)
	}
	return nil
}

// resyncRequired tells a delta token Graph no longer knows: 410 Gone, or a sync state error.
func resyncRequired(err error) bool {
	e, ok := asAPIError(err)
	if !ok {
		return false
	}
	code := strings.ToLower(graphCode(err))
	return e.GetStatusCode() == http.StatusGone ||
		e.GetStatusCode()/100 == 4 && slices.Contains([]string{"syncstatenotfound", "syncstateinvalid", "resyncrequired"}, code)
}

func graphMessage(err error) string {
	var o *odataerrors.ODataError
	if errors.As(err, &o) && o.GetErrorEscaped() != nil {
		return deref(o.GetErrorEscaped().GetMessage())
	}
	return ""
}

// str reads a string of a JSON value kiota left untyped.
func str(v any) string {
	switch s := v.(type) {
	case *string:
		return deref(s)
	case string:
		return s
	}
	return ""
}
