package notifications

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/plateforme-rome/rome/clients/notifclient"
)

// service answers POST /v1/notifications with a fixed status, body and
// Retry-After, and checks what it receives.
func service(t *testing.T, status int, body, retryAfter string) *notifclient.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/notifications" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		var n notifclient.Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil || n.Key != "req-1/submitted" {
			t.Errorf("body: %+v %v", n, err)
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return notifclient.New(srv.URL, srv.Client())
}

func TestNotify(t *testing.T) {
	in := NotifyInput{Notification: notifclient.Notification{
		Key: "req-1/submitted", Event: notifclient.EventSubmitted, RequestID: "req-1", Title: "New request",
		Actor: notifclient.Actor{Sub: "alice"}, To: notifclient.Recipients{Roles: []string{"moderator"}},
	}}
	cases := []struct {
		name         string
		status       int
		body         string
		retryAfter   string
		wantType     string
		nonRetryable bool
		wantDelay    time.Duration
	}{
		{"created", 201, `{"id":"ntf_1","key":"req-1/submitted"}`, "", "", false, 0},
		{"refused", 422, `{"status":422,"code":"notification_key_reused","detail":"…"}`, "", ErrTypeRefused, true, 0},
		{"forbidden", 403, `{"status":403,"code":"forbidden_role","detail":"…"}`, "", ErrTypeRefused, true, 0},
		{"overloaded", 429, `{"status":429,"code":"rate_limited","detail":"…"}`, "7", "rate_limited", false, 7 * time.Second},
		{"down", 503, `{"status":503,"code":"not_ready","detail":"…"}`, "", "not_ready", false, 0},
		{"proxy error", 502, `<html>bad gateway</html>`, "", "unexpected_response", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
			env.RegisterActivity(&Activities{Client: service(t, c.status, c.body, c.retryAfter)})
			val, err := env.ExecuteActivity((&Activities{}).Notify, in)
			if c.wantType == "" {
				if err != nil {
					t.Fatal(err)
				}
				var out NotifyOutput
				if err := val.Get(&out); err != nil || out.ID != "ntf_1" {
					t.Fatalf("output: %+v %v", out, err)
				}
				return
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("want an application error, got %v", err)
			}
			if appErr.Type() != c.wantType || appErr.NonRetryable() != c.nonRetryable || appErr.NextRetryDelay() != c.wantDelay {
				t.Fatalf("type %q nonRetryable %v delay %v: %v", appErr.Type(), appErr.NonRetryable(), appErr.NextRetryDelay(), appErr)
			}
		})
	}
}

func TestNotifyNetworkErrorIsRetryable(t *testing.T) {
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(&Activities{Client: notifclient.New("http://127.0.0.1:1", nil)})
	_, err := env.ExecuteActivity((&Activities{}).Notify, NotifyInput{Notification: notifclient.Notification{Key: "req-1/submitted"}})
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Fatalf("network error: %v", err)
	}
}

// counter answers GET /v1/follows/counts: status 200 counts each fiche's followers as its
// number (M0042 → 42); another status answers that problem. It records the batches asked.
type counter struct {
	status  int
	mu      sync.Mutex
	batches [][]string
}

func (c *counter) client(t *testing.T) *notifclient.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/follows/counts" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		codes := r.URL.Query()["codeRome"]
		c.mu.Lock()
		c.batches = append(c.batches, codes)
		c.mu.Unlock()
		if c.status != http.StatusOK {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(c.status)
			_, _ = fmt.Fprintf(w, `{"status":%d,"code":"refused_%d","detail":"…"}`, c.status, c.status)
			return
		}
		var out struct {
			Items []notifclient.FollowerCount `json:"items"`
		}
		for _, code := range codes {
			n, _ := strconv.Atoi(code[1:])
			out.Items = append(out.Items, notifclient.FollowerCount{CodeRome: code, Followers: n})
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return notifclient.New(srv.URL, srv.Client())
}

// Any number of fiches is counted: the client asks the service for
// MaxFollowerCodes at a time, and the counts keep the input's order.
func TestCountFollowersInBatches(t *testing.T) {
	var in CountFollowersInput
	for i := range 2*notifclient.MaxFollowerCodes + 1 {
		in.CodesRome = append(in.CodesRome, fmt.Sprintf("M%04d", i))
	}
	c := &counter{status: http.StatusOK}
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(&Activities{Client: c.client(t)})
	val, err := env.ExecuteActivity((&Activities{}).CountFollowers, in)
	if err != nil {
		t.Fatal(err)
	}
	var out CountFollowersOutput
	if err := val.Get(&out); err != nil || len(out.Counts) != len(in.CodesRome) {
		t.Fatalf("%d counts for %d fiches: %v", len(out.Counts), len(in.CodesRome), err)
	}
	for i, count := range out.Counts {
		if count.CodeRome != in.CodesRome[i] || count.Followers != i {
			t.Fatalf("count %d: %+v", i, count)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.batches) != 3 || len(c.batches[0]) != notifclient.MaxFollowerCodes || len(c.batches[2]) != 1 {
		t.Fatalf("batches of %d, %d… fiches", len(c.batches[0]), len(c.batches[1]))
	}
}

// A refusal is final; an outage is left to the retry policy.
func TestCountFollowersFailures(t *testing.T) {
	for status, nonRetryable := range map[int]bool{http.StatusForbidden: true, http.StatusUnprocessableEntity: true, http.StatusServiceUnavailable: false} {
		env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
		env.RegisterActivity(&Activities{Client: (&counter{status: status}).client(t)})
		_, err := env.ExecuteActivity((&Activities{}).CountFollowers, CountFollowersInput{CodesRome: []string{"M1805"}})
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.NonRetryable() != nonRetryable || nonRetryable && appErr.Type() != ErrTypeCountRefused {
			t.Errorf("HTTP %d: %v", status, err)
		}
	}
}
