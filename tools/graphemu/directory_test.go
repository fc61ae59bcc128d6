package graphemu_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/tools/graphemu"
)

// admin calls a control endpoint (no token).
func (c *client) admin(method, path string, body string) int {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestInvitingAnAddressTwiceGivesTheSameGuest(t *testing.T) {
	emu, c := start(t)
	invite := map[string]any{"invitedUserEmailAddress": "alice@opco.example", "invitedUserDisplayName": "Alice Martin",
		"inviteRedirectUrl": "https://rome.example/console", "sendInvitationMessage": true}
	st, first, _ := c.do("POST", "/v1.0/invitations", invite)
	if st != 201 || first["status"] != "PendingAcceptance" || first["inviteRedeemUrl"] == "" {
		t.Fatalf("invite: %d %v", st, first)
	}
	id := first["invitedUser"].(map[string]any)["id"].(string)
	invite["invitedUserEmailAddress"] = "Alice@OPCO.example"
	if st, again, _ := c.do("POST", "/v1.0/invitations", invite); st != 201 || again["invitedUser"].(map[string]any)["id"] != id {
		t.Fatalf("invite again: %d %v, want user %s", st, again, id)
	}
	st, u, _ := c.do("GET", "/v1.0/users/"+id+"?$select=id,displayName,mail,userPrincipalName,userType", nil)
	if st != 200 || u["displayName"] != "Alice Martin" || u["mail"] != "alice@opco.example" || u["userType"] != "Guest" ||
		u["userPrincipalName"] != "alice_opco.example#EXT#@rome-tenant.onmicrosoft.com" {
		t.Fatalf("user: %d %v", st, u)
	}
	if _, ok := u["jobTitle"]; ok {
		t.Errorf("$select was not applied: %v", u)
	}
	st, list, _ := c.do("GET", "/v1.0/users?"+url.Values{"$filter": {"mail eq 'ALICE@opco.example'"}}.Encode(), nil)
	if st != 200 || len(list["value"].([]any)) != 1 {
		t.Fatalf("users by mail: %d %v", st, list)
	}
	if st, body, _ := c.do("GET", "/v1.0/users/nobody", nil); st != 404 || errCode(body) != "Request_ResourceNotFound" {
		t.Fatalf("unknown user: %d %v", st, body)
	}

	// Redeeming lands on the console; a later invitation says it is completed.
	noRedirect := *c.http
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Get(first["inviteRedeemUrl"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://rome.example/console" {
		t.Fatalf("redeem: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, again, _ := c.do("POST", "/v1.0/invitations", invite); again["status"] != "Completed" {
		t.Fatalf("invitation of a guest who redeemed: %v", again)
	}
	st2 := emu.State()
	if len(st2.Users) != 1 || st2.Users[0].ExternalUserState != "Accepted" || len(st2.Invitations) != 3 || !st2.Invitations[0].SendInvitationMessage {
		t.Fatalf("state: %+v %+v", st2.Users, st2.Invitations)
	}

	for name, body := range map[string]map[string]any{
		"no redirect": {"invitedUserEmailAddress": "bob@opco.example"},
		"bad address": {"invitedUserEmailAddress": "Bob <bob@opco.example>", "inviteRedirectUrl": "https://rome.example"},
		"no address":  {"inviteRedirectUrl": "https://rome.example"},
	} {
		if st, resp, _ := c.do("POST", "/v1.0/invitations", body); st != 400 || errCode(resp) != "BadRequest" {
			t.Errorf("%s: %d %v", name, st, resp)
		}
	}
}

func TestAppRoleAssignmentsAreRefusedTwice(t *testing.T) {
	emu, c := start(t)
	user, err := emu.AddGroupMember("g-partners", graphemu.User{DisplayName: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1.0/servicePrincipals/" + graphemu.DefaultServicePrincipalID + "/appRoleAssignedTo"
	body := map[string]any{"principalId": user.ID, "resourceId": graphemu.DefaultServicePrincipalID, "appRoleId": graphemu.DefaultPartnerRoleID}
	st, a, _ := c.do("POST", path, body)
	if st != 201 || a["principalType"] != "User" || a["principalDisplayName"] != "Alice" || a["appRoleId"] != graphemu.DefaultPartnerRoleID || len(a["id"].(string)) != 43 {
		t.Fatalf("assign: %d %v", st, a)
	}
	st, dup, _ := c.do("POST", path, body)
	if e, _ := dup["error"].(map[string]any); st != 400 || errCode(dup) != "Request_BadRequest" || e["message"] != "Permission being assigned already exists on the object." {
		t.Fatalf("assign again: %d %v", st, dup)
	}
	body["appRoleId"] = graphemu.DefaultModeratorRoleID // another role of the same user is another assignment
	if st, _, _ := c.do("POST", path, body); st != 201 {
		t.Fatalf("second role: %d", st)
	}
	for name, tc := range map[string]struct {
		path   string
		body   map[string]any
		status int
		code   string
	}{
		"unknown role":      {path, map[string]any{"principalId": user.ID, "resourceId": graphemu.DefaultServicePrincipalID, "appRoleId": "11111111-1111-1111-1111-111111111111"}, 400, "Request_BadRequest"},
		"unknown principal": {path, map[string]any{"principalId": "22222222-2222-2222-2222-222222222222", "resourceId": graphemu.DefaultServicePrincipalID, "appRoleId": graphemu.DefaultAdminRoleID}, 404, "Request_ResourceNotFound"},
		"unknown resource":  {"/v1.0/servicePrincipals/33333333-3333-3333-3333-333333333333/appRoleAssignedTo", body, 404, "Request_ResourceNotFound"},
	} {
		if st, resp, _ := c.do("POST", tc.path, tc.body); st != tc.status || errCode(resp) != tc.code {
			t.Errorf("%s: %d %v", name, st, resp)
		}
	}
	st, list, _ := c.do("GET", path+"?"+url.Values{"$filter": {"principalId eq " + user.ID}}.Encode(), nil)
	if st != 200 || len(list["value"].([]any)) != 2 {
		t.Fatalf("list: %d %v", st, list)
	}
	if n := len(emu.State().AppRoleAssignments); n != 2 {
		t.Fatalf("%d assignments", n)
	}
}

// deltaRound follows a delta query's pages from link to its deltaLink and returns the member
// ids added and removed per group, and the number of pages.
func deltaRound(t *testing.T, c *client, link string) (added, removed map[string][]string, deltaLink string, pages int) {
	t.Helper()
	added, removed = map[string][]string{}, map[string][]string{}
	for {
		st, page, _ := c.do("GET", strings.TrimPrefix(link, c.base), nil)
		if st != 200 {
			t.Fatalf("delta %s: %d %v", link, st, page)
		}
		pages++
		for _, v := range page["value"].([]any) {
			g := v.(map[string]any)
			id := g["id"].(string)
			if _, ok := added[id]; !ok {
				added[id] = []string{}
			}
			members, _ := g["members@delta"].([]any)
			for _, m := range members {
				m := m.(map[string]any)
				if m["@odata.type"] != "#microsoft.graph.user" {
					t.Fatalf("member %v", m)
				}
				if r, ok := m["@removed"].(map[string]any); ok && r["reason"] == "deleted" {
					removed[id] = append(removed[id], m["id"].(string))
				} else {
					added[id] = append(added[id], m["id"].(string))
				}
			}
		}
		if next, ok := page["@odata.nextLink"].(string); ok {
			link = next
			continue
		}
		for _, ids := range added {
			sort.Strings(ids)
		}
		return added, removed, page["@odata.deltaLink"].(string), pages
	}
}

func TestGroupMembersDelta(t *testing.T) {
	emu := graphemu.New(graphemu.Config{DeltaPageSize: 2})
	c := serve(t, emu)
	var ids []string
	for _, name := range []string{"Alice", "Bruno", "Chloé"} {
		st := c.admin("POST", "/_emulator/groups/g-partners/members", `{"displayName":"`+name+`","mail":"`+strings.ToLower(name)+`@opco.example"}`)
		if st != 201 {
			t.Fatalf("add %s: %d", name, st)
		}
	}
	ids = emu.State().Groups[0].MemberIDs()
	if _, err := emu.AddGroupMember("g-other", graphemu.User{ID: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(ids)
	first := "/v1.0/groups/delta()?" + url.Values{"$filter": {"id eq 'g-partners'"}, "$select": {"members"}}.Encode()
	added, removed, deltaLink, pages := deltaRound(t, c, c.base+first)
	if len(added) != 1 || !slices.Equal(added["g-partners"], ids) || len(removed) != 0 || pages != 2 {
		t.Fatalf("first round over %d pages: added %v removed %v, want %v", pages, added, removed, ids)
	}
	if added, removed, again, _ := deltaRound(t, c, deltaLink); len(added) != 0 || len(removed) != 0 || again == "" {
		t.Fatalf("no change: %v %v", added, removed)
	}

	// Bruno leaves, Denis joins, another group changes.
	if st := c.admin("DELETE", "/_emulator/groups/g-partners/members/"+emu.State().Users[slices.IndexFunc(emu.State().Users, func(u graphemu.User) bool { return u.DisplayName == "Bruno" })].ID, ""); st != 204 {
		t.Fatalf("remove: %d", st)
	}
	denis, err := emu.AddGroupMember("g-partners", graphemu.User{DisplayName: "Denis"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.AddGroupMember("g-other", graphemu.User{ID: "elsewhere-2"}); err != nil {
		t.Fatal(err)
	}
	added, removed, next, _ := deltaRound(t, c, deltaLink)
	bruno := emu.State().Users[slices.IndexFunc(emu.State().Users, func(u graphemu.User) bool { return u.DisplayName == "Bruno" })].ID
	if len(added) != 1 || !slices.Equal(added["g-partners"], []string{denis.ID}) || !slices.Equal(removed["g-partners"], []string{bruno}) {
		t.Fatalf("changes: added %v removed %v", added, removed)
	}
	if added, _, _, _ := deltaRound(t, c, next); len(added) != 0 {
		t.Fatalf("changes reported twice: %v", added)
	}

	// Without a filter, every group; $deltatoken=latest skips the current state.
	if added, _, _, _ := deltaRound(t, c, c.base+"/v1.0/groups/delta?$select=members"); len(added) != 2 || len(added["g-other"]) != 2 {
		t.Fatalf("all groups: %v", added)
	}
	added, _, latest, _ := deltaRound(t, c, c.base+"/v1.0/groups/delta?$deltatoken=latest")
	if len(added) != 0 || latest == "" {
		t.Fatalf("latest: %v", added)
	}
	if _, err := emu.AddGroupMember("g-other", graphemu.User{ID: "elsewhere-3"}); err != nil {
		t.Fatal(err)
	}
	if added, _, _, _ := deltaRound(t, c, latest); !slices.Equal(added["g-other"], []string{"elsewhere-3"}) {
		t.Fatalf("since latest: %v", added)
	}

	for name, path := range map[string]string{
		"filter on a property": "/v1.0/groups/delta?" + url.Values{"$filter": {"displayName eq 'x'"}}.Encode(),
		"garbled token":        "/v1.0/groups/delta?$deltatoken=%21%21",
	} {
		if st, body, _ := c.do("GET", path, nil); st != 400 {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
	if st := c.admin("DELETE", "/_emulator/groups/g-partners/members/"+bruno, ""); st != 404 {
		t.Errorf("removing a non-member: %d", st)
	}
	if st, g, _ := c.do("GET", "/v1.0/groups/g-partners", nil); st != 200 || g["id"] != "g-partners" {
		t.Errorf("get group: %d %v", st, g)
	}
	if st, body, _ := c.do("GET", "/v1.0/groups/nope", nil); st != 404 || errCode(body) != "Request_ResourceNotFound" {
		t.Errorf("unknown group: %d %v", st, body)
	}
}

// A deltaLink taken before a restart reports the changes made after it.
func TestDirectorySurvivesARestart(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "state.json")
	first := persistent(t, stateFile)
	c := serve(t, first)
	alice, err := first.AddGroupMember("g", graphemu.User{DisplayName: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	c.do("POST", "/v1.0/invitations", map[string]any{"invitedUserEmailAddress": "bob@opco.example", "inviteRedirectUrl": "https://rome.example"})
	c.do("POST", "/v1.0/servicePrincipals/"+graphemu.DefaultServicePrincipalID+"/appRoleAssignedTo",
		map[string]any{"principalId": alice.ID, "resourceId": graphemu.DefaultServicePrincipalID, "appRoleId": graphemu.DefaultAdminRoleID})
	_, _, deltaLink, _ := deltaRound(t, c, c.base+"/v1.0/groups/delta?$filter=id+eq+'g'")
	c.stop()
	before := first.State()

	second := persistent(t, stateFile)
	if a, b := asJSON(t, second.State()), asJSON(t, before); a != b {
		t.Fatalf("state after the restart:\n%s\nwant:\n%s", a, b)
	}
	if len(before.Users) != 2 || len(before.Groups) != 1 || len(before.AppRoleAssignments) != 1 || len(before.Invitations) != 1 {
		t.Fatalf("the state saved lacks something: %+v", before)
	}
	if err := second.RemoveGroupMember("g", alice.ID); err != nil {
		t.Fatal(err)
	}
	c2 := serve(t, second)
	c2.token = c.token
	_, removed, _, _ := deltaRound(t, c2, strings.Replace(deltaLink, c.base, c2.base, 1))
	if !slices.Equal(removed["g"], []string{alice.ID}) {
		t.Fatalf("removed after the restart: %v", removed)
	}
}
