package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/access"
)

// fakeAccessWorkflows stands for Temporal in the router tests: it keeps the workflows
// started and the updates sent, and moves a request's status as the real workflow does
// (package access/flow, tested on Temporal's test environment), recording it in the store.
type fakeAccessWorkflows struct {
	mu      sync.Mutex
	st      *store.Store
	started []access.Input
	updates []string
	down    bool
}

func (f *fakeAccessWorkflows) StartAccess(ctx context.Context, in access.Input) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return fmt.Errorf("%w: connection refused", app.ErrWorkflowUnavailable)
	}
	f.started = append(f.started, in)
	r := in.Request
	r.Seq = 1
	return f.st.RecordAccess(ctx, r)
}

// transitions are the statuses each update starts from, and where it leads.
var transitions = map[string]struct {
	from []access.Status
	to   access.Status
}{
	access.UpdateVerify:  {[]access.Status{access.AwaitingVerification}, access.AwaitingReview},
	access.UpdateResend:  {[]access.Status{access.AwaitingVerification}, access.AwaitingVerification},
	access.UpdateAsk:     {[]access.Status{access.AwaitingReview}, access.AwaitingApplicant},
	access.UpdateAnswer:  {[]access.Status{access.AwaitingApplicant}, access.AwaitingReview},
	access.UpdateApprove: {[]access.Status{access.AwaitingReview, access.AwaitingApplicant}, access.Approved},
	access.UpdateReject:  {[]access.Status{access.AwaitingReview, access.AwaitingApplicant}, access.Rejected},
}

func (f *fakeAccessWorkflows) UpdateAccess(ctx context.Context, id, name, _ string, arg any) (access.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return access.Request{}, fmt.Errorf("%w: connection refused", app.ErrWorkflowUnavailable)
	}
	f.updates = append(f.updates, name)
	r, err := f.st.AccessRequest(ctx, id)
	if err != nil {
		return access.Request{}, err
	}
	move := transitions[name]
	if !slices.Contains(move.from, r.Status) {
		return access.Request{}, access.Reject(access.ErrInvalidTransition, r.Status, "", "cannot %s when %s", name, r.Status)
	}
	r.Status = move.to
	switch in := arg.(type) {
	case access.AskInput:
		r.Messages = append(r.Messages, access.Message{From: access.FromTeam, By: in.By, Text: in.Question, At: time.Now()})
	case access.AnswerInput:
		r.Messages = append(r.Messages, access.Message{From: access.FromApplicant, Text: in.Text, At: time.Now()})
	case access.ApproveInput:
		r.Decision = &access.Decision{By: in.By, At: time.Now(), Role: in.Role, Org: in.Org}
	case access.RejectInput:
		r.Decision = &access.Decision{By: in.By, At: time.Now(), Reason: in.Reason}
	}
	r.Seq++
	return r, f.st.RecordAccess(ctx, r)
}

func withConsole(d *Deps) { d.ConsoleURL = "https://console.rome.example" }

const application = `{"name":"Claire Dubois","email":"Claire.Dubois@OPCO-Sante.fr","orgName":"OPCO Santé","orgKind":"opco",
	"position":"Chargée de mission emploi","domains":["J","J1501","J"],"motivation":"Les fiches du soin évoluent vite."}`

// linkToken is the token of the console link in the notice sent under key.
func (e *env) linkToken(t *testing.T, key, page string) string {
	t.Helper()
	n, ok := e.notes.get(key)
	if !ok {
		t.Fatalf("no notice %s", key)
	}
	m := regexp.MustCompile(`/acces/acc_[0-9a-f]{24}/` + page + `\?jeton=([^\s]+)`).FindStringSubmatch(n.Link)
	if m == nil || !strings.Contains(n.Text, n.Link) {
		t.Fatalf("notice %s: link %q (text %q)", key, n.Link, n.Text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAccessRequests: an expert applies without an account; the links of their e-mails
// verify their address and carry their answer, and serve nothing else; admins review; the
// approved applicant enters the directory and their first sign-in takes their entry; bad
// input, robots and floods are turned away without telling who has an account.
func TestAccessRequests(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d, withConsole)
			c := e.cast(t)
			call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-sante","name":"OPCO Santé","kind":"opco","domains":["J"]}`, c.admin)

			res := call(t, e.h, "POST", "/v1/access-requests", application, "")
			id, _ := res.body["id"].(string)
			if res.status != http.StatusAccepted || !access.IDPattern.MatchString(id) {
				t.Fatalf("submit: %d %s", res.status, res.raw)
			}
			if len(e.access.started) != 1 || e.access.started[0].Request.Email != "claire.dubois@opco-sante.fr" ||
				!slices.Equal(e.access.started[0].Request.Domains, []string{"J", "J1501"}) {
				t.Fatalf("started %+v", e.access.started)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests", `{"name":"","email":"nope","orgName":"x","orgKind":"club","position":"x","domains":["Z9"],"motivation":"x"}`, ""),
				422, "invalid_access_request", "name", "email", "orgKind", "domains[0]")
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests", `{"name":"a","email":"a@b.fr","orgName":"x","orgKind":"opco","position":"x","domains":[],"motivation":"x"}`, ""),
				422, "invalid_access_request", "domains")
			robot := call(t, e.h, "POST", "/v1/access-requests", strings.Replace(application, `"name"`, `"website":"https://spam.example","name"`, 1), "")
			if robot.status != http.StatusAccepted || len(e.access.started) != 1 {
				t.Fatalf("robot: %d %s, started %d", robot.status, robot.raw, len(e.access.started))
			}

			// The workflow has the verification sent: the link leads to the console.
			key := "access-" + id + "-verify-1"
			if res := call(t, e.h, "POST", "/internal/v1/access-requests/"+id+"/notices", `{"notice":"verify","key":"`+key+`"}`, c.service); res.status != 204 {
				t.Fatalf("notice: %d %s", res.status, res.raw)
			}
			verifyToken := e.linkToken(t, key, "verifier")
			if n, _ := e.notes.get(key); !slices.Equal(n.To.Emails, []string{"claire.dubois@opco-sante.fr"}) {
				t.Fatalf("verification sent to %+v", n.To)
			}
			if res := call(t, e.h, "POST", "/internal/v1/access-requests/"+id+"/notices", `{"notice":"verify","key":"k"}`, c.partner); res.status != 403 {
				t.Fatalf("a partner sends notices: %d", res.status)
			}

			// The link serves its request and purpose only, for 48 hours.
			wantProblem(t, call(t, e.h, "GET", "/v1/access-requests/"+id+"/applicant?token=1.AAAA", "", ""), 404, "access_request_not_found")
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests/acc_000000000000000000000000/verify", `{"token":"`+verifyToken+`"}`, ""), 404, "access_request_not_found")
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests/"+id+"/answer", `{"token":"`+verifyToken+`","text":"x"}`, ""), 404, "access_request_not_found")
			e.clock.set(time.Now().Add(49 * time.Hour))
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests/"+id+"/verify", `{"token":"`+verifyToken+`"}`, ""), 410, "link_expired")
			e.clock.set(time.Time{})
			res = call(t, e.h, "POST", "/v1/access-requests/"+id+"/verify", `{"token":"`+verifyToken+`"}`, "")
			if res.status != 200 || res.body["status"] != string(access.AwaitingReview) || res.body["email"] != nil {
				t.Fatalf("verify: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests/"+id+"/verify", `{"token":"`+verifyToken+`"}`, ""), 409, "invalid_transition")
			call(t, e.h, "POST", "/internal/v1/access-requests/"+id+"/notices", `{"notice":"received","key":"r1"}`, c.service)
			if n, ok := e.notes.get("r1"); !ok || !slices.Equal(n.To.Emails, []string{"claire.dubois@opco-sante.fr"}) || !strings.Contains(n.Text, "examine") {
				t.Fatalf("the applicant is not told their address is confirmed: %+v", n)
			}

			// The same address again while it is reviewed: the same answer, nothing new.
			if again := call(t, e.h, "POST", "/v1/access-requests", application, ""); again.status != 202 || again.body["id"] != id || len(e.access.started) != 1 {
				t.Fatalf("again: %d %s, started %d", again.status, again.raw, len(e.access.started))
			}

			// Admins review; nobody else sees the requests.
			if res := call(t, e.h, "GET", "/v1/access-requests", "", c.moderator); res.status != 403 {
				t.Fatalf("a moderator lists access requests: %d", res.status)
			}
			res = call(t, e.h, "GET", "/v1/access-requests?status=AWAITING_REVIEW", "", c.admin)
			if items, _ := res.body["items"].([]any); res.status != 200 || len(items) != 1 || res.body["counts"].(map[string]any)["AWAITING_REVIEW"] != 1.0 {
				t.Fatalf("admin's list: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/access-requests?status=NOPE", "", c.admin), 422, "invalid_query", "status")
			res = call(t, e.h, "POST", "/v1/access-requests/"+id+"/ask", `{"question":"Quel périmètre couvrez-vous ?"}`, c.admin)
			if res.status != 200 || res.body["status"] != string(access.AwaitingApplicant) {
				t.Fatalf("ask: %d %s", res.status, res.raw)
			}
			qkey := "access-" + id + "-question-3"
			call(t, e.h, "POST", "/internal/v1/access-requests/"+id+"/notices", `{"notice":"question","key":"`+qkey+`"}`, c.service)
			answerToken := e.linkToken(t, qkey, "repondre")
			if n, _ := e.notes.get(qkey); !strings.Contains(n.Text, "Quel périmètre couvrez-vous ?") {
				t.Fatalf("the question's e-mail: %q", n.Text)
			}
			res = call(t, e.h, "GET", "/v1/access-requests/"+id+"/applicant?token="+url.QueryEscape(answerToken), "", "")
			if msgs, _ := res.body["messages"].([]any); res.status != 200 || len(msgs) != 1 || msgs[0].(map[string]any)["by"] != nil {
				t.Fatalf("applicant's view: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests/"+id+"/answer", `{"token":"`+answerToken+`","text":""}`, ""), 422, "invalid_answer", "text")
			res = call(t, e.h, "POST", "/v1/access-requests/"+id+"/answer", `{"token":"`+answerToken+`","text":"Les métiers du soin."}`, "")
			if res.status != 200 || res.body["status"] != string(access.AwaitingReview) {
				t.Fatalf("answer: %d %s", res.status, res.raw)
			}

			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests/"+id+"/approve", `{"org":"opco-nulle-part","role":"chief"}`, c.admin),
				422, "invalid_approval", "org", "role")
			res = call(t, e.h, "POST", "/v1/access-requests/"+id+"/approve", `{"org":"opco-sante","role":"partner"}`, c.admin)
			if res.status != 200 || res.body["status"] != string(access.Approved) || res.body["decision"].(map[string]any)["by"] != "ada" {
				t.Fatalf("approve: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests/"+id+"/reject", `{"reason":"trop tard"}`, c.admin), 409, "invalid_transition")

			// The workflow records the person; again, the same person.
			for range 2 {
				res = call(t, e.h, "POST", "/internal/v1/access-requests/"+id+"/person", `{}`, c.service)
				if res.status != 200 || res.body["sub"] != access.PersonSub(id) || res.body["role"] != "partner" ||
					res.body["org"] != "opco-sante" || res.body["source"] != "access_request" {
					t.Fatalf("provision: %d %s", res.status, res.raw)
				}
			}
			// In dev mode the first sign-in with the applicant's address takes the entry.
			claire := devToken(t, e.h, `{"sub":"claire-sub","name":"Claire","email":"claire.dubois@opco-sante.fr","role":"partner","org":"opco-sante"}`)
			res = call(t, e.h, "GET", "/v1/me", "", claire)
			if res.status != 200 || res.body["org"] != "opco-sante" {
				t.Fatalf("first sign-in: %d %s", res.status, res.raw)
			}
			if res := call(t, e.h, "GET", "/v1/people/"+access.PersonSub(id), "", c.admin); res.status != 404 {
				t.Fatalf("the provisional entry stays: %d %s", res.status, res.raw)
			}

			// Known addresses and floods: the same answer, nothing started.
			known := strings.Replace(application, "Claire.Dubois@OPCO-Sante.fr", "alice@example.org", 1)
			call(t, e.h, "PATCH", "/v1/people/alice", `{"email":"alice@example.org"}`, c.admin)
			if res := call(t, e.h, "POST", "/v1/access-requests", known, ""); res.status != 202 || len(e.access.started) != 1 {
				t.Fatalf("a known address: %d %s, started %d", res.status, res.raw, len(e.access.started))
			}
			if n, ok := e.notes.get("access-known-alice@example.org-" + time.Now().UTC().Format("2006-01-02")); !ok || n.Title != "Vous avez déjà accès à la plateforme du ROME" {
				t.Fatalf("a known address is not told: %+v", n)
			}
			flood := strings.Replace(application, "Claire.Dubois", "flot", 1)
			for range accessPerAddress {
				fid := call(t, e.h, "POST", "/v1/access-requests", flood, "").body["id"].(string)
				_, _ = e.access.UpdateAccess(t.Context(), fid, access.UpdateVerify, "", access.VerifyInput{})
				call(t, e.h, "POST", "/v1/access-requests/"+fid+"/reject", `{"reason":"doublon"}`, c.admin)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests", flood, ""), 429, "rate_limited")
			e.access.down = true
			wantProblem(t, call(t, e.h, "POST", "/v1/access-requests", strings.Replace(application, "Claire.Dubois", "autre", 1), ""), 503, "workflow_unavailable")
		})
	}
}

// TestInvitedPersonSignsIn: an applicant invited through Entra is bound to the subject of
// their first token by its Entra object id, when another service asks the directory.
func TestInvitedPersonSignsIn(t *testing.T) {
	e := newEnv(t)
	c := e.cast(t)
	call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-sante","name":"OPCO Santé","kind":"opco","domains":["J"]}`, c.admin)
	id := call(t, e.h, "POST", "/v1/access-requests", application, "").body["id"].(string)
	if _, err := e.access.UpdateAccess(t.Context(), id, access.UpdateVerify, "", access.VerifyInput{}); err != nil {
		t.Fatal(err)
	}
	call(t, e.h, "POST", "/v1/access-requests/"+id+"/approve", `{"org":"opco-sante","role":"moderator"}`, c.admin)
	if res := call(t, e.h, "POST", "/internal/v1/access-requests/"+id+"/person", `{"entraId":"0f1e2d3c-aaaa-bbbb-cccc-000000000001"}`, c.service); res.status != 200 {
		t.Fatalf("provision: %d %s", res.status, res.raw)
	}
	if res := call(t, e.h, "GET", "/v1/people/pairwise-sub-1?entraId=0f1e2d3c-aaaa-bbbb-cccc-000000000002", "", c.service); res.status != 404 {
		t.Fatalf("another Entra id took the entry: %d %s", res.status, res.raw)
	}
	res := call(t, e.h, "GET", "/v1/people/pairwise-sub-1?entraId=0f1e2d3c-aaaa-bbbb-cccc-000000000001", "", c.service)
	if res.status != 200 || res.body["role"] != "moderator" || res.body["lastSeenAt"] == nil {
		t.Fatalf("first sign-in: %d %s", res.status, res.raw)
	}
	if res := call(t, e.h, "GET", "/v1/people/other-sub?entraId=0f1e2d3c-aaaa-bbbb-cccc-000000000001", "", c.service); res.status != 404 {
		t.Fatalf("the entry was taken twice: %d %s", res.status, res.raw)
	}
}

// TestGroupSync: the worker's reads of the Entra groups enter their members before they
// first sign in, with the group's role (admin over moderator); a member who leaves every
// group is deactivated, unless an admin entered them; the same read twice changes nothing.
func TestGroupSync(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			c := e.cast(t)
			sync := func(body string, want map[string]any) {
				t.Helper()
				res := call(t, e.h, "POST", "/internal/v1/group-members", body, c.service)
				for k, v := range want {
					if res.status != 200 || res.body[k] != v {
						t.Fatalf("sync %s: %d %s, want %s=%v", body, res.status, res.raw, k, v)
					}
				}
			}
			wantProblem(t, call(t, e.h, "POST", "/internal/v1/group-members", `{"role":"moderator","members":[{"entraId":"oid-x","name":"X","email":"not an address"}]}`, c.service),
				422, "invalid_group_sync", "members[0].email")
			full := `{"role":"moderator","full":true,"members":[{"entraId":"oid-mona","name":"Mona","email":"mona@francetravail.fr"},
				{"entraId":"oid-ada","name":"Ada"}]}`
			sync(full, map[string]any{"added": 2.0})
			sync(full, map[string]any{"added": 0.0, "updated": 0.0})
			res := call(t, e.h, "GET", "/v1/people/entra-oid-mona", "", c.admin)
			if res.status != 200 || res.body["role"] != "moderator" || res.body["source"] != "entra_sync" || res.body["email"] != "mona@francetravail.fr" {
				t.Fatalf("synchronised moderator: %d %s", res.status, res.raw)
			}
			sync(`{"role":"admin","members":[{"entraId":"oid-ada","name":"Ada"}]}`, map[string]any{"updated": 1.0})
			if res := call(t, e.h, "GET", "/v1/people/entra-oid-ada", "", c.admin); res.body["role"] != "admin" || res.body["email"] != nil {
				t.Fatalf("admin over moderator: %s", res.raw)
			}
			// Mona signs in: her token's subject takes the entry, by her Entra object id.
			if res := call(t, e.h, "GET", "/v1/people/mona-pairwise?entraId=oid-mona", "", c.service); res.status != 200 || res.body["role"] != "moderator" {
				t.Fatalf("first sign-in: %d %s", res.status, res.raw)
			}
			// An admin's own entry keeps its role when its Entra id leaves the groups.
			call(t, e.h, "POST", "/v1/people", `{"sub":"zoe","name":"Zoé","role":"moderator","entraId":"oid-zoe"}`, c.admin)
			sync(`{"role":"moderator","members":[{"entraId":"oid-zoe","name":"Zoé"}]}`, map[string]any{"added": 0.0})
			sync(`{"role":"moderator","removed":["oid-mona","oid-zoe"]}`, map[string]any{"deactivated": 1.0})
			if res := call(t, e.h, "GET", "/v1/people/mona-pairwise", "", c.admin); res.body["active"] != false {
				t.Fatalf("Mona left the group: %s", res.raw)
			}
			if res := call(t, e.h, "GET", "/v1/people/zoe", "", c.admin); res.body["active"] != true {
				t.Fatalf("Zoé, entered by an admin: %s", res.raw)
			}
			// Ada leaves the moderators' group: still an admin.
			sync(`{"role":"moderator","full":true,"members":[]}`, map[string]any{"deactivated": 0.0})
			if res := call(t, e.h, "GET", "/v1/people/entra-oid-ada", "", c.admin); res.body["role"] != "admin" || res.body["active"] != true {
				t.Fatalf("Ada after the moderators' full read: %s", res.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/internal/v1/group-members", `{"role":"partner","members":[{"entraId":"bad id!","name":""}],"removed":["x y"]}`, c.service),
				422, "invalid_group_sync", "role", "members[0].entraId", "members[0].name", "removed[0]")
			if res := call(t, e.h, "POST", "/internal/v1/group-members", full, c.admin); res.status != 403 {
				t.Fatalf("an admin calls the internal route: %d", res.status)
			}
		})
	}
}

// accessRecord is the access request id as the store holds it.
func (e *env) accessRecord(t *testing.T, id string) access.Request {
	t.Helper()
	r, err := e.store.AccessRequest(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
