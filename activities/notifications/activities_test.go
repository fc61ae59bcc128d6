package notifications

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
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
