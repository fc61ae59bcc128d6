package teams_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/tools/graphemu"
)

type fixture struct {
	emu  *graphemu.Emulator
	srv  *httptest.Server
	acts *teams.Activities
	env  *testsuite.TestActivityEnvironment
}

func setup(t *testing.T, private bool) *fixture {
	t.Helper()
	emu := graphemu.New(graphemu.Config{NotificationBackoff: 20 * time.Millisecond})
	srv := httptest.NewTLSServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	acts, err := teams.New(teams.Config{
		TenantID: graphemu.DefaultTenantID, ClientID: graphemu.DefaultClientID, ClientSecret: graphemu.DefaultClientSecret,
		BaseURL: srv.URL + "/v1.0", AuthorityHost: srv.URL, TeamID: graphemu.DefaultTeamID, PrivateChannels: private,
		ChannelOwners: []string{"aad-rome-team"}, Transport: srv.Client().Transport, RequestTimeout: 700 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{emu: emu, srv: srv, acts: acts, env: env}
}

func run[O any](t *testing.T, f *fixture, fn, in any) (O, error) {
	t.Helper()
	var out O
	v, err := f.env.ExecuteActivity(fn, in)
	if err != nil {
		return out, err
	}
	if err := v.Get(&out); err != nil {
		t.Fatal(err)
	}
	return out, nil
}

// retried runs an activity as the workflow does, retried after a failed attempt.
func retried[O any](t *testing.T, f *fixture, fn, in any) (O, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(f.acts)
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (O, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 3}})
		var out O
		err := workflow.ExecuteActivity(ctx, fn, in).Get(ctx, &out)
		return out, err
	}, workflow.RegisterOptions{Name: "retried"})
	env.ExecuteWorkflow("retried")
	var out O
	if err := env.GetWorkflowError(); err != nil {
		return out, err
	}
	return out, env.GetWorkflowResult(&out)
}

func channels(f *fixture) []graphemu.ChannelState {
	return f.emu.State().Teams[0].Channels
}

var request = teams.CreateChannelInput{
	RequestID: "REQ-2026-0042", CodeRome: "M1805", Title: "Études & développement: \"logiciel\" / cloud?",
	Summary: "Ajouter l'appellation « Ingénieur cloud ».", Link: "https://rome.example/requests/REQ-2026-0042",
}

func TestCreateChannelOncePerRequestEvenWhenTheAnswerIsLost(t *testing.T) {
	f := setup(t, false)
	// The create is processed but its answer comes after the client gave up.
	f.emu.AddFault(graphemu.Fault{Method: "POST", PathPrefix: "/v1.0/teams/rome-team/channels", LatencyMs: 1500, Times: 1})
	if _, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request); err == nil {
		t.Fatal("the first attempt should have timed out")
	} else if !retryable(err) {
		t.Fatalf("a timeout must be retryable: %v", err)
	}
	out, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	if err != nil {
		t.Fatal(err)
	}
	again, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	if err != nil {
		t.Fatal(err)
	}
	chs := channels(f)
	if len(chs) != 1 || chs[0].ID != out.ChannelID || again.ChannelID != out.ChannelID {
		t.Fatalf("want one channel, got %d (%s / %s)", len(chs), out.ChannelID, again.ChannelID)
	}
	if len(chs[0].Messages) != 1 || !strings.Contains(chs[0].Messages[0].Body.Content, request.Link) {
		t.Fatalf("want the summary posted once with the link, got %+v", chs[0].Messages)
	}
	if out.WebURL == "" || out.Name != chs[0].DisplayName {
		t.Fatalf("bad output %+v", out)
	}
	if p := graphemu.ChannelNameProblem(out.Name); p != "" || !strings.HasPrefix(out.Name, "REQ-2026-0042 M1805") {
		t.Fatalf("name %q: %s", out.Name, p)
	}
}

func TestCreateChannelUnder429HonoursRetryAfter(t *testing.T) {
	f := setup(t, false)
	f.emu.AddFault(graphemu.Fault{Method: "POST", PathPrefix: "/v1.0/teams/", Status: 429, RetryAfterSeconds: 7, Times: 1})
	_, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.Type() != teams.ErrTypeUnavailable || app.NextRetryDelay() != 7*time.Second {
		t.Fatalf("want a retryable TeamsUnavailable after 7s, got %v", err)
	}
	if _, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request); err != nil {
		t.Fatal(err)
	}
	if n := len(channels(f)); n != 1 {
		t.Fatalf("want 1 channel, got %d", n)
	}
	f.emu.AddFault(graphemu.Fault{PathPrefix: "/v1.0/", Status: 503, Times: 1})
	_, err = run[teams.PostMessageOutput](t, f, f.acts.PostMessage, teams.PostMessageInput{ChannelID: channels(f)[0].ID, Key: "k", HTML: "<p>x</p>"})
	if !retryable(err) {
		t.Fatalf("a 503 must be retryable: %v", err)
	}
}

func retryable(err error) bool {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return !app.NonRetryable()
	}
	return err != nil
}

func TestChannelNamesWithinTeamsLimits(t *testing.T) {
	for _, c := range []struct{ id, code, title string }{
		{"REQ-1", "M1805", strings.Repeat("très long titre ", 10)},
		{"R~#%&*{}+/\\:<>?|'\"", "K2111", "  .Titre.  "},
		{strings.Repeat("x", 80), "A1101", "t"},
		{"REQ-2", "", "se termine par un point."},
	} {
		name := teams.ChannelName(c.id, c.code, c.title)
		if p := graphemu.ChannelNameProblem(name); p != "" || utf8.RuneCountInString(name) > 50 {
			t.Errorf("%q: %s", name, p)
		}
	}
	if teams.ChannelName(strings.Repeat("x", 80)+"1", "A", "t") == teams.ChannelName(strings.Repeat("x", 80)+"2", "A", "t") {
		t.Error("long request ids must still give distinct names")
	}
}

func TestMessagesAreIdempotentByKeyAndReadBackAsText(t *testing.T) {
	f := setup(t, false)
	ch, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	if err != nil {
		t.Fatal(err)
	}
	in := teams.PostMessageInput{ChannelID: ch.ChannelID, Key: "question:1", HTML: "<p>Quelle <b>appellation</b> ?</p>"}
	a, err := run[teams.PostMessageOutput](t, f, f.acts.PostMessage, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := run[teams.PostMessageOutput](t, f, f.acts.PostMessage, in)
	if err != nil || a.MessageID != b.MessageID {
		t.Fatalf("retry posted again: %v %v %v", a, b, err)
	}
	if n := len(channels(f)[0].Messages); n != 2 {
		t.Fatalf("want summary + question, got %d messages", n)
	}
	got, err := run[teams.GetMessageOutput](t, f, f.acts.GetMessage, teams.GetMessageInput{ChannelID: ch.ChannelID, MessageID: a.MessageID})
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "Quelle appellation ?" || !got.From.Application || got.CreatedAt.IsZero() {
		t.Fatalf("got %+v", got)
	}
	u, err := f.emu.PostUserMessage(graphemu.DefaultTeamID, ch.ChannelID, userMessage("u-1", "Alice", "Voir <la fiche> & co"))
	if err != nil {
		t.Fatal(err)
	}
	got, err = run[teams.GetMessageOutput](t, f, f.acts.GetMessage, teams.GetMessageInput{ChannelID: ch.ChannelID, MessageID: u.ID})
	if err != nil || got.Text != "Voir <la fiche> & co" || got.From != (teams.Sender{ID: "u-1", DisplayName: "Alice"}) {
		t.Fatalf("got %+v %v", got, err)
	}
}

func userMessage(id, name, text string) graphemu.UserMessage {
	var m graphemu.UserMessage
	m.From.ID, m.From.DisplayName, m.Text = id, name, text
	return m
}

func TestCloseChannelArchivesAndPostingThenIsRefused(t *testing.T) {
	f := setup(t, false)
	ch, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // archiving twice is fine
		out, err := run[teams.CloseChannelOutput](t, f, f.acts.CloseChannel, teams.CloseChannelInput{ChannelID: ch.ChannelID, Status: "accepted"})
		if err != nil || !out.Archived {
			t.Fatalf("%+v %v", out, err)
		}
	}
	if !channels(f)[0].IsArchived {
		t.Fatal("not archived")
	}
	_, err = run[teams.PostMessageOutput](t, f, f.acts.PostMessage, teams.PostMessageInput{ChannelID: ch.ChannelID, HTML: "late"})
	assertRejected(t, err, 403)
	_, err = run[teams.GetMessageOutput](t, f, f.acts.GetMessage, teams.GetMessageInput{ChannelID: ch.ChannelID, MessageID: "nope"})
	assertRejected(t, err, 404)
}

func TestCloseChannelMarksItClosedWhenArchivingIsRefused(t *testing.T) {
	f := setup(t, false)
	ch, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	if err != nil {
		t.Fatal(err)
	}
	f.emu.AddFault(graphemu.Fault{PathPrefix: "/v1.0/teams/rome-team/channels/" + ch.ChannelID + "/archive", Status: 403})
	out, err := run[teams.CloseChannelOutput](t, f, f.acts.CloseChannel, teams.CloseChannelInput{ChannelID: ch.ChannelID, Status: "rejected"})
	if err != nil || out.Archived {
		t.Fatalf("%+v %v", out, err)
	}
	if d := channels(f)[0].Description; !strings.HasPrefix(d, "[Closed: rejected]") {
		t.Fatalf("description %q", d)
	}
}

func assertRejected(t *testing.T, err error, status int) {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != teams.ErrTypeRejected {
		t.Fatalf("want a non-retryable TeamsRejected, got %v", err)
	}
	var d teams.GraphError
	if err := app.Details(&d); err != nil || d.Status != status || d.Code == "" {
		t.Fatalf("details %+v %v", d, err)
	}
}

type receiver struct {
	mu     sync.Mutex
	bodies []map[string]any
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, tok)
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, body)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func TestSubscriptionHandshakeNotificationAndRenewal(t *testing.T) {
	f := setup(t, false)
	rc := newReceiver(t)
	ch, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	if err != nil {
		t.Fatal(err)
	}
	in := teams.EnsureSubscriptionInput{ChannelID: ch.ChannelID, NotificationURL: rc.srv.URL + "/v1/teams/notifications", ClientState: "s3cret"}
	// Graph creates it but its answer is lost: the retry finds it instead of creating another.
	f.emu.AddFault(graphemu.Fault{Method: "POST", PathPrefix: "/v1.0/subscriptions", LatencyMs: 1500, Times: 1})
	sub, err := retried[teams.EnsureSubscriptionOutput](t, f, f.acts.EnsureSubscription, in)
	if subs := f.emu.State().Subscriptions; err != nil || len(subs) != 1 || subs[0].ID != sub.SubscriptionID {
		t.Fatalf("ensure is not idempotent: %+v %v, subscriptions %+v", sub, err, subs)
	}
	if d := time.Until(sub.ExpiresAt); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires in %v", d)
	}
	// A first attempt told the subscription may exist (the workflow's retry of a local call
	// whose answer was lost) finds it too.
	mayExist := in
	mayExist.MayExist = true
	again, err := run[teams.EnsureSubscriptionOutput](t, f, f.acts.EnsureSubscription, mayExist)
	if subs := f.emu.State().Subscriptions; err != nil || again.SubscriptionID != sub.SubscriptionID || len(subs) != 1 {
		t.Fatalf("a call told the subscription may exist made another: %+v %v, subscriptions %+v", again, err, subs)
	}
	if _, err := f.emu.PostUserMessage(graphemu.DefaultTeamID, ch.ChannelID, userMessage("u-1", "Alice", "Bonjour")); err != nil {
		t.Fatal(err)
	}
	f.emu.Close()
	rc.mu.Lock()
	if len(rc.bodies) != 1 {
		t.Fatalf("want 1 notification, got %v", rc.bodies)
	}
	n := rc.bodies[0]["value"].([]any)[0].(map[string]any)
	rc.mu.Unlock()
	if n["clientState"] != "s3cret" || n["subscriptionId"] != sub.SubscriptionID || n["changeType"] != "created" {
		t.Fatalf("notification %v", n)
	}
	renewed, err := run[teams.RenewSubscriptionOutput](t, f, f.acts.RenewSubscription, teams.RenewSubscriptionInput{SubscriptionID: sub.SubscriptionID})
	if err != nil || renewed.SubscriptionID != sub.SubscriptionID || renewed.ExpiresAt.Before(sub.ExpiresAt) {
		t.Fatalf("%+v %v", renewed, err)
	}
	// Gone: recreated from the channel and URL.
	recreated, err := run[teams.RenewSubscriptionOutput](t, f, f.acts.RenewSubscription, teams.RenewSubscriptionInput{
		SubscriptionID: "gone", ChannelID: ch.ChannelID, NotificationURL: in.NotificationURL, ClientState: "other"})
	if err != nil || recreated.SubscriptionID == sub.SubscriptionID || recreated.SubscriptionID == "" {
		t.Fatalf("%+v %v", recreated, err)
	}
	_, err = run[teams.RenewSubscriptionOutput](t, f, f.acts.RenewSubscription, teams.RenewSubscriptionInput{SubscriptionID: "gone"})
	assertRejected(t, err, 404)
}

func TestSubscriptionRefusedWhenTheEndpointDoesNotEcho(t *testing.T) {
	f := setup(t, false)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "nope") }))
	defer bad.Close()
	ch, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, request)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run[teams.EnsureSubscriptionOutput](t, f, f.acts.EnsureSubscription, teams.EnsureSubscriptionInput{ChannelID: ch.ChannelID, NotificationURL: bad.URL, ClientState: "x"})
	assertRejected(t, err, 400)
}

func TestPrivateChannelGetsItsMembers(t *testing.T) {
	f := setup(t, true)
	in := request
	in.Members = []string{"aad-partner", "aad-rome-team"} // an owner named again stays an owner, once
	ch, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, in)
	if err != nil || !ch.Private {
		t.Fatalf("%+v %v", ch, err)
	}
	members := func() []graphemu.Member { return channels(f)[0].Members }
	if got := channels(f)[0]; got.MembershipType != "private" || len(got.Members) != 2 ||
		got.Members[0].UserID != "aad-rome-team" || len(got.Members[0].Roles) != 1 || got.Members[0].Roles[0] != "owner" ||
		got.Members[1].UserID != "aad-partner" || len(got.Members[1].Roles) != 0 {
		t.Fatalf("%+v", got)
	}
	// A moderator acting on the request later joins it, once however often it is retried.
	for range 2 {
		if _, err := f.env.ExecuteActivity(f.acts.AddMember, teams.AddMemberInput{ChannelID: ch.ChannelID, UserID: "aad-moderator"}); err != nil {
			t.Fatal(err)
		}
	}
	if m := members(); len(m) != 3 || m[2].UserID != "aad-moderator" {
		t.Fatalf("%+v", m)
	}
	_, err = f.env.ExecuteActivity(f.acts.AddMember, teams.AddMemberInput{ChannelID: "gone", UserID: "aad-moderator"})
	assertRejected(t, err, 404)
}

func TestStandardChannelHasNoMemberList(t *testing.T) {
	f := setup(t, false)
	in := request
	in.Members = []string{"aad-partner"}
	ch, err := run[teams.CreateChannelOutput](t, f, f.acts.CreateChannel, in)
	if err != nil || ch.Private || channels(f)[0].MembershipType != "standard" {
		t.Fatalf("%+v %v", ch, err)
	}
}

func TestPrivateChannelsNeedAnOwner(t *testing.T) {
	_, err := teams.New(teams.Config{TenantID: "t", ClientID: "c", ClientSecret: "s", TeamID: "team", PrivateChannels: true})
	if err == nil || !strings.Contains(err.Error(), "GRAPH_CHANNEL_OWNERS") {
		t.Fatalf("want a refusal naming GRAPH_CHANNEL_OWNERS, got %v", err)
	}
}

func TestActivityFeed(t *testing.T) {
	f := setup(t, false)
	feed := teams.NewActivityFeed(f.acts)
	long := strings.Repeat("é", 200)
	err := feed.Send(t.Context(), teams.FeedNotification{UserID: "aad-moderator", Topic: "Request REQ-1 submitted", Preview: long,
		Link: "https://rome.example/requests/REQ-1"})
	if err != nil {
		t.Fatal(err)
	}
	got := f.emu.State().ActivityFeed
	if len(got) != 1 || got[0].UserID != "aad-moderator" || got[0].Topic != "Request REQ-1 submitted" ||
		got[0].WebURL != "https://rome.example/requests/REQ-1" || got[0].ActivityType != "systemDefault" ||
		got[0].PreviewText != strings.Repeat("é", 149)+"…" || got[0].Parameters["systemDefaultText"] != got[0].PreviewText {
		t.Fatalf("%+v", got)
	}
	// Graph throttling may go away, after its Retry-After; a refusal will not.
	f.emu.AddFault(graphemu.Fault{PathPrefix: "/v1.0/users/", Status: 429, RetryAfterSeconds: 7, Times: 1})
	err = feed.Send(t.Context(), teams.FeedNotification{UserID: "aad-moderator", Topic: "t", Preview: "p", Link: "https://x"})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.Type() != teams.ErrTypeUnavailable || app.NextRetryDelay() != 7*time.Second {
		t.Fatalf("want a retryable TeamsUnavailable after 7 s, got %v", err)
	}
	err = feed.Send(t.Context(), teams.FeedNotification{UserID: "aad-moderator", Topic: "t", Preview: "p"})
	assertRejected(t, err, 400)
}

func TestWrongSecretIsRejected(t *testing.T) {
	emu := graphemu.New(graphemu.Config{})
	srv := httptest.NewTLSServer(emu)
	defer srv.Close()
	acts, err := teams.New(teams.Config{TenantID: graphemu.DefaultTenantID, ClientID: graphemu.DefaultClientID, ClientSecret: "wrong",
		BaseURL: srv.URL + "/v1.0", AuthorityHost: srv.URL, TeamID: graphemu.DefaultTeamID, Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	_, err = env.ExecuteActivity(acts.CreateChannel, request)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("want an authentication failure, got %v", err)
	}
}
