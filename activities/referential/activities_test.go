package referential

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/plateforme-rome/rome/clients/refclient"
)

// referentialAnswering serves POST /v1/changesets with a fixed status and body.
func referentialAnswering(t *testing.T, status int, body string, calls *atomic.Int32) *refclient.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/v1/changesets" || r.Method != http.MethodPost {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		if status >= 400 {
			w.Header().Set("Content-Type", "application/problem+json")
		}
		if status == 503 {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return refclient.New(srv.URL, srv.Client())
}

func TestPublishChangeSet(t *testing.T) {
	in := PublishInput{ChangeSet: refclient.ChangeSet{ID: "req-1-publish", CodeRome: "M1805", Operations: []refclient.Operation{{Op: refclient.OpSetText}}}}
	cases := []struct {
		name         string
		status       int
		body         string
		wantType     string
		nonRetryable bool
		wantVersion  int
		wantResults  int
	}{
		{"published", 201, `{"id":"req-1-publish","version":61}`, "", false, 61, 0},
		{"conflict", 409, `{"status":409,"code":"changeset_conflict","detail":"op-1 no longer applies","results":[{"operationId":"op-1","applies":false,"code":"not_on_fiche"}]}`, ErrTypeConflict, true, 0, 1},
		{"refused", 422, `{"status":422,"code":"changeset_id_reused","detail":"…"}`, ErrTypeRejected, true, 0, 0},
		{"unavailable", 503, `{"status":503,"code":"referential_empty","detail":"…"}`, "referential_empty", false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int32
			env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
			env.RegisterActivity(&Activities{Client: referentialAnswering(t, c.status, c.body, &calls)})
			val, err := env.ExecuteActivity((&Activities{}).PublishChangeSet, in)
			if c.wantType == "" {
				if err != nil {
					t.Fatal(err)
				}
				var out PublishOutput
				if err := val.Get(&out); err != nil || out.Publication.Version != c.wantVersion {
					t.Fatalf("output %+v %v", out, err)
				}
				return
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("want an application error, got %v", err)
			}
			if appErr.Type() != c.wantType || appErr.NonRetryable() != c.nonRetryable {
				t.Errorf("type %q nonRetryable %v", appErr.Type(), appErr.NonRetryable())
			}
			if c.wantResults > 0 {
				var results []refclient.Result
				if err := appErr.Details(&results); err != nil || len(results) != c.wantResults || results[0].Code != "not_on_fiche" {
					t.Errorf("conflict details %+v %v", results, err)
				}
			}
			if calls.Load() != 1 {
				t.Errorf("%d calls", calls.Load())
			}
		})
	}
}

func TestReleaseActivities(t *testing.T) {
	acts := &Activities{}
	freeze := func(env *testsuite.TestActivityEnvironment) (converter.EncodedValue, error) {
		return env.ExecuteActivity(acts.FreezeRelease, FreezeInput{})
	}
	validate := func(env *testsuite.TestActivityEnvironment) (converter.EncodedValue, error) {
		return env.ExecuteActivity(acts.ValidateRelease, ReleaseInput{Number: 7})
	}
	publish := func(env *testsuite.TestActivityEnvironment) (converter.EncodedValue, error) {
		return env.ExecuteActivity(acts.PublishRelease, ReleaseInput{Number: 7})
	}
	frozen := `{"number":7,"status":"frozen","changeSets":[{"id":"r1-decision-1","requestId":"r1","status":"staged"}]}`
	cases := []struct {
		name         string
		run          func(*testsuite.TestActivityEnvironment) (converter.EncodedValue, error)
		path         string
		status       int
		body         string
		wantType     string
		nonRetryable bool
	}{
		{"freeze", freeze, "/v1/releases/next:freeze", 200, frozen, "", false},
		{"freeze, nothing staged", freeze, "/v1/releases/next:freeze", 409,
			`{"status":409,"code":"release_empty","detail":"no change set is staged"}`, ErrTypeReleaseEmpty, true},
		{"freeze, release trains off", freeze, "/v1/releases/next:freeze", 409,
			`{"status":409,"code":"release_trains_off","detail":"PUBLICATION_MODE is immediate"}`, ErrTypeReleaseTrainsOff, true},
		{"validate", validate, "/v1/releases/7:validate", 200, frozen, "", false},
		{"validate, another conflict", validate, "/v1/releases/7:validate", 409,
			`{"status":409,"code":"release_not_frozen","detail":"…"}`, ErrTypeRejected, true},
		{"publish", publish, "/v1/releases/7:publish", 200, `{"number":7,"status":"published","version":64}`, "", false},
		{"publish, referential down", publish, "/v1/releases/7:publish", 503,
			`{"status":503,"code":"unavailable","detail":"…"}`, "unavailable", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.Method != http.MethodPost || r.URL.Path != c.path {
					t.Errorf("%s %s, want POST %s", r.Method, r.URL.Path, c.path)
				}
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			t.Cleanup(srv.Close)
			env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
			env.RegisterActivity(&Activities{Client: refclient.New(srv.URL, srv.Client())})
			val, err := c.run(env)
			if calls.Load() != 1 {
				t.Errorf("%d calls", calls.Load())
			}
			if c.wantType == "" {
				var out ReleaseOutput
				if err != nil || val.Get(&out) != nil || out.Release.Number != 7 {
					t.Fatalf("output %+v, error %v", out, err)
				}
				return
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != c.wantType || appErr.NonRetryable() != c.nonRetryable {
				t.Fatalf("error %v, want type %s (non-retryable %v)", err, c.wantType, c.nonRetryable)
			}
		})
	}
}
