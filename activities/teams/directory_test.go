package teams_test

import (
	"errors"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/tools/graphemu"
)

const console = "https://rome.example/console"

// directory is a fixture whose emulator serves delta queries two entries a page, so that
// every round of a group of three spans pages.
func directory(t *testing.T, invitations bool) *fixture {
	t.Helper()
	emu := graphemu.New(graphemu.Config{DeltaPageSize: 2})
	srv := httptest.NewTLSServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	cfg := teams.Config{
		TenantID: graphemu.DefaultTenantID, ClientID: graphemu.DefaultClientID, ClientSecret: graphemu.DefaultClientSecret,
		BaseURL: srv.URL + "/v1.0", AuthorityHost: srv.URL, TeamID: graphemu.DefaultTeamID,
		Transport: srv.Client().Transport, RequestTimeout: 700 * time.Millisecond,
	}
	if invitations {
		roles, err := graphemu.ParseAppRoles(graphemu.DefaultAppRoles)
		if err != nil {
			t.Fatal(err)
		}
		cfg.AppServicePrincipalID, cfg.AppRoles, cfg.InviteRedirectURL = graphemu.DefaultServicePrincipalID, roles, console
	}
	acts, err := teams.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{emu: emu, srv: srv, acts: acts, env: env}
}

func assertAppError(t *testing.T, err error, typ string, retryable bool) {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != typ || app.NonRetryable() == retryable {
		t.Fatalf("want a %s error (retryable %v), got %v", typ, retryable, err)
	}
}

func TestInviteGuestTwiceGivesTheSameUserAndOneEmail(t *testing.T) {
	f := directory(t, true)
	in := teams.InviteGuestInput{Email: "alice@opco.example", Name: "Alice Martin"}
	// Graph creates the guest but its answer is lost: the retry finds the guest by address.
	f.emu.AddFault(graphemu.Fault{Method: "POST", PathPrefix: "/v1.0/invitations", LatencyMs: 1500, Times: 1})
	first, err := retried[teams.InviteGuestOutput](t, f, f.acts.InviteGuest, in)
	if err != nil || first.UserID == "" || first.Invited {
		t.Fatalf("%+v %v (the retry finds the guest the lost attempt created)", first, err)
	}
	in.Email = "Alice@OPCO.example"
	again, err := run[teams.InviteGuestOutput](t, f, f.acts.InviteGuest, in)
	if err != nil || again.UserID != first.UserID || again.Invited {
		t.Fatalf("second invitation: %+v %v, want user %s", again, err, first.UserID)
	}
	st := f.emu.State()
	if len(st.Users) != 1 || st.Users[0].ID != first.UserID || st.Users[0].UserType != "Guest" || st.Users[0].DisplayName != "Alice Martin" {
		t.Fatalf("users %+v", st.Users)
	}
	if len(st.Invitations) != 1 || !st.Invitations[0].SendInvitationMessage || st.Invitations[0].InviteRedirectURL != console {
		t.Fatalf("want one invitation email, landing on the console: %+v", st.Invitations)
	}

	bob, err := run[teams.InviteGuestOutput](t, f, f.acts.InviteGuest, teams.InviteGuestInput{Email: "bob@branche.example", RedirectURL: "https://rome.example/requests/1"})
	if err != nil || !bob.Invited || bob.UserID == first.UserID {
		t.Fatalf("%+v %v", bob, err)
	}
	if got := f.emu.State().Invitations[1]; got.InviteRedirectURL != "https://rome.example/requests/1" || got.InvitedUser.ID != bob.UserID {
		t.Fatalf("invitation %+v", got)
	}
	// A member of the tenant is not invited: their user is the answer.
	member, err := f.emu.AddGroupMember("g-rome", graphemu.User{DisplayName: "Claire", Mail: "claire@francetravail.example"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := run[teams.InviteGuestOutput](t, f, f.acts.InviteGuest, teams.InviteGuestInput{Email: "claire@francetravail.example"}); err != nil || got.UserID != member.ID || got.Invited {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "alice", "Alice <alice@opco.example>"} {
		_, err := run[teams.InviteGuestOutput](t, f, f.acts.InviteGuest, teams.InviteGuestInput{Email: bad})
		assertAppError(t, err, teams.ErrTypeRejected, false)
	}
	if n := len(f.emu.State().Invitations); n != 2 {
		t.Fatalf("%d invitations", n)
	}
}

func TestAssignAppRoleTwiceMakesOneAssignment(t *testing.T) {
	f := directory(t, true)
	guest, err := run[teams.InviteGuestOutput](t, f, f.acts.InviteGuest, teams.InviteGuestInput{Email: "alice@opco.example", Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	in := teams.AssignAppRoleInput{UserID: guest.UserID, Role: teams.RolePartner}
	first, err := run[teams.AssignAppRoleOutput](t, f, f.acts.AssignAppRole, in)
	if err != nil || first.AlreadyAssigned || first.AppRoleID != graphemu.DefaultPartnerRoleID {
		t.Fatalf("%+v %v", first, err)
	}
	again, err := run[teams.AssignAppRoleOutput](t, f, f.acts.AssignAppRole, in)
	if err != nil || !again.AlreadyAssigned || again.AppRoleID != graphemu.DefaultPartnerRoleID {
		t.Fatalf("%+v %v", again, err)
	}
	got := f.emu.State().AppRoleAssignments
	if len(got) != 1 || got[0].PrincipalID != guest.UserID || got[0].AppRoleID != graphemu.DefaultPartnerRoleID ||
		got[0].ResourceID != graphemu.DefaultServicePrincipalID || got[0].PrincipalType != "User" {
		t.Fatalf("assignments %+v", got)
	}

	_, err = run[teams.AssignAppRoleOutput](t, f, f.acts.AssignAppRole, teams.AssignAppRoleInput{UserID: guest.UserID, Role: "owner"})
	assertAppError(t, err, teams.ErrTypeRejected, false)
	_, err = run[teams.AssignAppRoleOutput](t, f, f.acts.AssignAppRole, teams.AssignAppRoleInput{UserID: "aad-alice", Role: teams.RoleAdmin})
	assertAppError(t, err, teams.ErrTypeRejected, false)
	// A user Graph does not know (yet: a fresh invitation replicates) is worth a retry.
	_, err = run[teams.AssignAppRoleOutput](t, f, f.acts.AssignAppRole, teams.AssignAppRoleInput{UserID: "0b9f8a62-5a1e-4c4b-9d0e-3f2a1b0c9d8e", Role: teams.RoleAdmin})
	assertAppError(t, err, teams.ErrTypeUnavailable, true)
	f.emu.AddFault(graphemu.Fault{PathPrefix: "/v1.0/servicePrincipals/", Status: 429, RetryAfterSeconds: 3, Times: 1})
	_, err = run[teams.AssignAppRoleOutput](t, f, f.acts.AssignAppRole, teams.AssignAppRoleInput{UserID: guest.UserID, Role: teams.RoleModerator})
	assertAppError(t, err, teams.ErrTypeUnavailable, true)
	if n := len(f.emu.State().AppRoleAssignments); n != 1 {
		t.Fatalf("%d assignments", n)
	}
}

func TestInvitationsUnconfiguredAreRefusedForGood(t *testing.T) {
	f := directory(t, false)
	_, err := run[teams.InviteGuestOutput](t, f, f.acts.InviteGuest, teams.InviteGuestInput{Email: "alice@opco.example"})
	assertAppError(t, err, teams.ErrTypeNotConfigured, false)
	_, err = run[teams.AssignAppRoleOutput](t, f, f.acts.AssignAppRole, teams.AssignAppRoleInput{UserID: "0b9f8a62-5a1e-4c4b-9d0e-3f2a1b0c9d8e", Role: teams.RolePartner})
	assertAppError(t, err, teams.ErrTypeNotConfigured, false)
	if st := f.emu.State(); len(st.Invitations) != 0 || len(st.AppRoleAssignments) != 0 {
		t.Fatalf("%+v", st)
	}
	// Reading groups needs no more configuration.
	if _, err := f.emu.AddGroupMember("g", graphemu.User{DisplayName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	if out, err := run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g"}); err != nil || len(out.Members) != 1 {
		t.Fatalf("%+v %v", out, err)
	}
}

func memberIDs(ms []teams.GroupMember) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return ids
}

func TestGroupMembersDeltaReportsExactlyTheChanges(t *testing.T) {
	f := directory(t, false)
	var seeded []graphemu.User
	for _, name := range []string{"Alice", "Bruno", "Chloé"} {
		u, err := f.emu.AddGroupMember("g-partners", graphemu.User{DisplayName: name, Mail: strings.ToLower(name) + "@opco.example",
			UserPrincipalName: strings.ToLower(name) + "_opco.example#EXT#@rome-tenant.onmicrosoft.com", UserType: "Guest"})
		if err != nil {
			t.Fatal(err)
		}
		seeded = append(seeded, u)
	}
	if _, err := f.emu.AddGroupMember("g-other", graphemu.User{DisplayName: "Elsewhere"}); err != nil {
		t.Fatal(err)
	}
	full, err := run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-partners"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{seeded[0].ID, seeded[1].ID, seeded[2].ID}
	sort.Strings(want)
	if !full.Full || !slices.Equal(memberIDs(full.Members), want) || len(full.Removed) != 0 || full.DeltaLink == "" {
		t.Fatalf("full read %+v, want %v", full, want)
	}
	i := slices.IndexFunc(full.Members, func(m teams.GroupMember) bool { return m.ID == seeded[2].ID })
	if m := full.Members[i]; m != (teams.GroupMember{ID: seeded[2].ID, DisplayName: "Chloé", Mail: "chloé@opco.example", UserPrincipalName: "chloé_opco.example#EXT#@rome-tenant.onmicrosoft.com"}) {
		t.Fatalf("member %+v", m)
	}

	// Bruno leaves, Denis joins; another group's change is not this group's.
	if err := f.emu.RemoveGroupMember("g-partners", seeded[1].ID); err != nil {
		t.Fatal(err)
	}
	denis, err := f.emu.AddGroupMember("g-partners", graphemu.User{DisplayName: "Denis", Mail: "denis@opco.example"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.emu.AddGroupMember("g-other", graphemu.User{DisplayName: "Elsewhere 2"}); err != nil {
		t.Fatal(err)
	}
	delta, err := run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-partners", DeltaLink: full.DeltaLink})
	if err != nil {
		t.Fatal(err)
	}
	if delta.Full || len(delta.Members) != 1 || delta.Members[0] != (teams.GroupMember{ID: denis.ID, DisplayName: "Denis", Mail: "denis@opco.example", UserPrincipalName: denis.UserPrincipalName}) ||
		!slices.Equal(delta.Removed, []string{seeded[1].ID}) || delta.DeltaLink == "" {
		t.Fatalf("delta %+v", delta)
	}
	// The same link again (a retried call) gives the same answer; the new one, nothing.
	if again, err := run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-partners", DeltaLink: full.DeltaLink}); err != nil ||
		!slices.Equal(memberIDs(again.Members), []string{denis.ID}) || !slices.Equal(again.Removed, delta.Removed) {
		t.Fatalf("replay %+v %v", again, err)
	}
	quiet, err := run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-partners", DeltaLink: delta.DeltaLink})
	if err != nil || len(quiet.Members) != 0 || len(quiet.Removed) != 0 || quiet.DeltaLink == "" {
		t.Fatalf("no change %+v %v", quiet, err)
	}

	// Graph forgot the token: the whole group again, said so.
	f.emu.AddFault(graphemu.Fault{PathPrefix: "/v1.0/groups/delta", Status: 410, Times: 1})
	resync, err := run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-partners", DeltaLink: quiet.DeltaLink})
	wantNow := []string{seeded[0].ID, seeded[2].ID, denis.ID}
	sort.Strings(wantNow)
	if err != nil || !resync.Full || !slices.Equal(memberIDs(resync.Members), wantNow) {
		t.Fatalf("resync %+v %v, want %v", resync, err, wantNow)
	}

	f.emu.AddFault(graphemu.Fault{PathPrefix: "/v1.0/groups/delta", Status: 503, Times: 1})
	_, err = run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-partners", DeltaLink: quiet.DeltaLink})
	assertAppError(t, err, teams.ErrTypeUnavailable, true)
	_, err = run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-nope"})
	assertRejected(t, err, 404)
	_, err = run[teams.GroupMembersDeltaOutput](t, f, f.acts.GroupMembersDelta, teams.GroupMembersDeltaInput{GroupID: "g-partners", DeltaLink: "https://attacker.example/v1.0/groups/delta?$deltatoken=x"})
	assertAppError(t, err, teams.ErrTypeRejected, false)
}

func TestInvitationSettingsFromEnv(t *testing.T) {
	base := map[string]string{"GRAPH_APP_SERVICE_PRINCIPAL_ID": "", "GRAPH_APP_ROLES": "", "GRAPH_INVITE_REDIRECT_URL": ""}
	set := func(kv map[string]string) {
		for k, v := range base {
			t.Setenv(k, v)
		}
		for k, v := range kv {
			t.Setenv(k, v)
		}
	}
	set(nil)
	if cfg, err := teams.ConfigFromEnv(); err != nil || cfg.Invitations() {
		t.Fatalf("nothing set: %+v %v", cfg, err)
	}
	set(map[string]string{"GRAPH_APP_SERVICE_PRINCIPAL_ID": graphemu.DefaultServicePrincipalID, "GRAPH_APP_ROLES": " Partner=" + graphemu.DefaultPartnerRoleID +
		", moderator=" + graphemu.DefaultModeratorRoleID + ",admin=" + graphemu.DefaultAdminRoleID, "GRAPH_INVITE_REDIRECT_URL": console})
	cfg, err := teams.ConfigFromEnv()
	if err != nil || !cfg.Invitations() || cfg.AppRoles[teams.RolePartner] != graphemu.DefaultPartnerRoleID || cfg.InviteRedirectURL != console {
		t.Fatalf("%+v %v", cfg, err)
	}
	for name, kv := range map[string]map[string]string{
		"roles without principal": {"GRAPH_APP_ROLES": graphemu.DefaultAppRoles},
		"principal without roles": {"GRAPH_APP_SERVICE_PRINCIPAL_ID": graphemu.DefaultServicePrincipalID},
		"not role=id":             {"GRAPH_APP_SERVICE_PRINCIPAL_ID": graphemu.DefaultServicePrincipalID, "GRAPH_APP_ROLES": graphemu.DefaultAppRoles + ",reader"},
		"unknown role":            {"GRAPH_APP_SERVICE_PRINCIPAL_ID": graphemu.DefaultServicePrincipalID, "GRAPH_APP_ROLES": graphemu.DefaultAppRoles + ",reader=" + graphemu.DefaultAdminRoleID},
		"role twice":              {"GRAPH_APP_SERVICE_PRINCIPAL_ID": graphemu.DefaultServicePrincipalID, "GRAPH_APP_ROLES": graphemu.DefaultAppRoles + ",admin=" + graphemu.DefaultAdminRoleID},
		"role missing":            {"GRAPH_APP_SERVICE_PRINCIPAL_ID": graphemu.DefaultServicePrincipalID, "GRAPH_APP_ROLES": "partner=" + graphemu.DefaultPartnerRoleID},
		"role id not a uuid":      {"GRAPH_APP_SERVICE_PRINCIPAL_ID": graphemu.DefaultServicePrincipalID, "GRAPH_APP_ROLES": strings.Replace(graphemu.DefaultAppRoles, graphemu.DefaultAdminRoleID, "admin-role", 1)},
		"principal not a uuid":    {"GRAPH_APP_SERVICE_PRINCIPAL_ID": "rome-app", "GRAPH_APP_ROLES": graphemu.DefaultAppRoles},
		"relative redirect":       {"GRAPH_INVITE_REDIRECT_URL": "/console"},
	} {
		set(kv)
		if _, err := teams.ConfigFromEnv(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err = teams.New(teams.Config{TenantID: "t", ClientID: "c", ClientSecret: "s", TeamID: "team", AppServicePrincipalID: graphemu.DefaultServicePrincipalID})
	if err == nil || !strings.Contains(err.Error(), "GRAPH_APP_ROLES") {
		t.Fatalf("New with half the settings: %v", err)
	}
}
