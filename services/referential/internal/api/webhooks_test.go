package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook/webhooktest"
)

// A consumer's endpoint registered over the API receives every event of the versions
// published through the real publication path, signed, in order, exactly once by
// webhook-id, although it answered 503 and then went away for a day in between.
func TestWebhooksDeliverEveryEventOnceAcrossAnOutage(t *testing.T) {
	t.Parallel()
	for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			admin := e.token(auth.RoleAdmin)
			rx, filtered := webhooktest.New(t), webhooktest.New(t)

			reg := e.do("POST", "/v1/webhooks", admin, map[string]any{"url": rx.URL(), "events": []string{"version.published", "fiche.changed"}, "codesRome": []string{}})
			expect(t, reg, 201)
			ep := reg.json(t)
			id, secret := ep["id"].(string), ep["secret"].(string)
			if !strings.HasPrefix(secret, "whsec_") || reg.header.Get("Location") != "/v1/webhooks/"+id {
				t.Fatalf("registration %s", reg.body)
			}
			rx.Trust(secret)
			reg = e.do("POST", "/v1/webhooks", admin, map[string]any{"url": filtered.URL(), "events": []string{"fiche.changed"}, "codesRome": []string{"M1806"}})
			expect(t, reg, 201)
			filtered.Trust(reg.json(t)["secret"].(string))

			// This test's dispatcher: another replica over the same database, on a clock it moves.
			clock := webhooktest.NewClock(time.Now().Add(time.Minute))
			hooks := app.NewWebhooks(e.srv.Store, app.WebhookConfig{Now: clock.Now, AllowPrivate: true, Timeout: 5 * time.Second,
				Log: slog.New(slog.DiscardHandler)})
			deliver := func() {
				if _, err := hooks.DeliverDue(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			service := e.token(auth.RoleService)
			expect(t, e.do("POST", "/v1/changesets", service, map[string]any{"id": "cs-hook-1", "requestId": "req-hook-1", "baseVersion": 60,
				"codeRome": "M1806", "operations": []any{map[string]any{"op": "set_text", "field": "accesEmploi", "text": "Bac+3 en informatique."}}}), 201)
			deliver()
			if n := len(rx.Delivered()); n != 2 {
				t.Fatalf("%d deliveries of version 61, want 2", n)
			}

			// Down: 503 for half a day, then no answer at all for another half.
			rx.Answer(http.StatusServiceUnavailable)
			publishedHistory(t, e)
			for range 72 {
				deliver()
				clock.Add(10 * time.Minute)
			}
			rx.Stop()
			for range 72 {
				deliver()
				clock.Add(10 * time.Minute)
			}
			if dead := e.do("GET", "/v1/webhooks/"+id+"/deliveries?state=dead", admin, nil).json(t)["items"].([]any); len(dead) != 0 {
				t.Fatalf("dead letters after a day: %v", dead)
			}
			rx.Restart()
			rx.Answer(http.StatusOK)
			clock.Add(time.Hour)
			deliver()

			want := expectedEvents(t, e)
			got := rx.Delivered()
			ids := map[string]int{}
			for _, d := range got {
				ids[d.ID]++
			}
			if len(ids) != len(got) {
				t.Errorf("a webhook-id arrived twice: %v", ids)
			}
			if events := events(got); !slices.Equal(events, want) {
				t.Fatalf("delivered\n%q\nwant\n%q", events, want)
			}
			if bad := append(rx.Rejected(), filtered.Rejected()...); len(bad) > 0 {
				t.Fatalf("signatures that did not verify: %q", bad)
			}
			var onlyM1806 []string
			for _, w := range want {
				if strings.HasPrefix(w, "fiche.changed") && strings.HasSuffix(w, "M1806") {
					onlyM1806 = append(onlyM1806, w)
				}
			}
			if got := events(filtered.Delivered()); len(onlyM1806) < 2 || !slices.Equal(got, onlyM1806) {
				t.Fatalf("the endpoint following M1806 got %q, want %q", got, onlyM1806)
			}
			t.Run("delivery log", func(t *testing.T) { checkDeliveryLog(t, e, admin, id, len(want)) })
			t.Run("admin routes", func(t *testing.T) { checkWebhookAdmin(t, e, admin, id, rx) })
		})
	}
}

// expectedEvents are the events of the versions after 60, as the change feed tells them:
// each version, then each fiche it changed, in order.
func expectedEvents(t *testing.T, e *env) []string {
	var want []string
	feed := e.get("/v1/changes?since=60&limit=200")
	expect(t, feed, 200)
	last, seen := 0, map[string]bool{}
	for _, it := range feed.json(t)["items"].([]any) {
		it := it.(map[string]any)
		v, code := int(it["version"].(float64)), it["codeRome"].(string)
		if v != last {
			want = append(want, fmt.Sprintf("version.published %d ", v))
			last = v
		}
		if key := fmt.Sprintf("fiche.changed %d %s", v, code); !seen[key] {
			seen[key] = true
			want = append(want, key)
		}
	}
	return want
}

func events(ds []webhooktest.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = fmt.Sprintf("%s %d %s", d.Type, d.Version, d.CodeRome)
	}
	return out
}

func checkDeliveryLog(t *testing.T, e *env, admin, id string, total int) {
	var items []any
	path := "/v1/webhooks/" + id + "/deliveries?limit=7"
	for pages := 0; ; pages++ {
		r := e.do("GET", path, admin, nil)
		expect(t, r, 200)
		page := r.json(t)
		items = append(items, page["items"].([]any)...)
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/webhooks/" + id + "/deliveries?limit=7&cursor=" + next
	}
	if len(items) != total {
		t.Fatalf("%d deliveries in the log, want %d", len(items), total)
	}
	var retried map[string]any
	for _, it := range items {
		it := it.(map[string]any)
		if it["state"] != "delivered" {
			t.Errorf("delivery %v", it)
		}
		if it["attempts"].(float64) > 1 && retried == nil {
			retried = it
		}
	}
	if retried == nil {
		t.Fatal("no delivery was retried")
	}
	detail := e.do("GET", "/v1/webhooks/"+id+"/deliveries/"+retried["id"].(string), admin, nil)
	expect(t, detail, 200)
	history := detail.json(t)["history"].([]any)
	var saw503, sawRefused bool
	for _, a := range history {
		a := a.(map[string]any)
		saw503 = saw503 || a["statusCode"] == float64(503)
		sawRefused = sawRefused || (a["statusCode"] == nil && a["error"] != "")
	}
	if last := history[len(history)-1].(map[string]any); last["statusCode"] != float64(200) || !saw503 || !sawRefused {
		t.Fatalf("attempts %v", history)
	}
	for _, c := range []struct{ path, code string }{
		{"/deliveries?state=lost", "invalid_state"},
		{"/deliveries?cursor=eA", "invalid_cursor"},
	} {
		r := e.do("GET", "/v1/webhooks/"+id+c.path, admin, nil)
		if expect(t, r, 422); problemCode(t, r) != c.code {
			t.Errorf("%s: %s", c.path, r.body)
		}
	}
}

func checkWebhookAdmin(t *testing.T, e *env, admin, id string, rx *webhooktest.Receiver) {
	base := "/v1/webhooks/" + id
	for _, r := range []resp{
		e.do("GET", "/v1/webhooks", e.token(auth.RoleModerator), nil),
		e.do("POST", "/v1/webhooks", e.token(auth.RoleService), map[string]any{"url": rx.URL(), "events": []string{"version.published"}}),
	} {
		if expect(t, r, 403); problemCode(t, r) != "forbidden_role" {
			t.Errorf("not an admin: %s", r.body)
		}
	}
	expect(t, e.do("GET", "/v1/webhooks", "", nil), 401)
	list := e.do("GET", "/v1/webhooks", admin, nil)
	expect(t, list, 200)
	if items := list.json(t)["items"].([]any); len(items) != 2 || strings.Contains(string(list.body), "whsec_") {
		t.Fatalf("list %s", list.body)
	}
	got := e.do("GET", base, admin, nil)
	expect(t, got, 200)
	if ep := got.json(t); ep["enabled"] != true || ep["failingSince"] != nil || ep["url"] != rx.URL() {
		t.Fatalf("endpoint %v", ep)
	}
	rot := e.do("POST", base+"/rotate-secret", admin, nil)
	expect(t, rot, 200)
	if ep := rot.json(t); !strings.HasPrefix(ep["secret"].(string), "whsec_") || ep["previousSecretExpiresAt"] == nil {
		t.Fatalf("rotation %v", ep)
	}
	expect(t, e.do("POST", base+"/enable", admin, nil), 200)
	first := rx.Delivered()[0].ID
	replay := e.do("POST", base+"/deliveries/"+first+"/replay", admin, nil)
	expect(t, replay, 200)
	if d := replay.json(t); d["state"] != "pending" || d["id"] != first {
		t.Fatalf("replay %v", d)
	}
	if r := e.do("POST", base+"/deliveries/"+first+"/replay", admin, nil); r.status != 409 || problemCode(t, r) != "delivery_pending" {
		t.Fatalf("replaying a pending delivery: %d %s", r.status, r.body)
	}
	dead := e.do("POST", base+"/dead-letters/replay", admin, nil)
	expect(t, dead, 200)
	if n := dead.json(t)["replayed"]; n != float64(0) {
		t.Fatalf("dead letters replayed: %v", n)
	}
	for _, c := range []struct{ method, path, code string }{
		{"GET", "/v1/webhooks/wh_nope", "webhook_not_found"},
		{"GET", "/v1/webhooks/wh_AAAAAAAAAAAAAAAAAAAAAAAAAA", "webhook_not_found"},
		{"DELETE", "/v1/webhooks/%00", "webhook_not_found"},
		{"POST", "/v1/webhooks/wh_nope/rotate-secret", "webhook_not_found"},
		{"GET", base + "/deliveries/msg_nope", "delivery_not_found"},
		{"POST", base + "/deliveries/msg_000000000000000000000000/replay", "delivery_not_found"},
		{"GET", "/v1/webhooks/wh_AAAAAAAAAAAAAAAAAAAAAAAAAA/deliveries", "webhook_not_found"},
	} {
		r := e.do(c.method, c.path, admin, nil)
		if expect(t, r, 404); problemCode(t, r) != c.code {
			t.Errorf("%s %s: %s", c.method, c.path, r.body)
		}
	}
	for _, c := range []struct {
		body  map[string]any
		code  string
		field string
	}{
		{map[string]any{"url": "ftp://consumer.example/h", "events": []string{"version.published"}}, "invalid_webhook_url", "url"},
		{map[string]any{"url": "https://me:pw@consumer.example/h", "events": []string{"version.published"}}, "invalid_webhook_url", "url"},
		{map[string]any{"url": "", "events": []string{"version.published"}}, "invalid_webhook_url", "url"},
		{map[string]any{"url": rx.URL(), "events": []string{}}, "invalid_webhook_events", "events"},
		{map[string]any{"url": rx.URL(), "events": []string{"version.published", "fiche.deleted"}}, "invalid_webhook_events", "events[1]"},
		{map[string]any{"url": rx.URL(), "events": []string{"fiche.changed"}, "codesRome": []string{"m1805"}}, "invalid_codes_rome", "codesRome[0]"},
		{map[string]any{"url": rx.URL(), "events": []string{"fiche.changed"}, "secret": "whsec_mine"}, "invalid_body", "secret"},
	} {
		r := e.do("POST", "/v1/webhooks", admin, c.body)
		expect(t, r, 422)
		p := r.json(t)
		errs, _ := p["errors"].([]any)
		if p["code"] != c.code || len(errs) != 1 || errs[0].(map[string]any)["field"] != c.field {
			t.Errorf("%v: %s", c.body, r.body)
		}
	}
	expect(t, e.do("DELETE", base, admin, nil), 204)
	expect(t, e.do("GET", base, admin, nil), 404)
	expect(t, e.do("GET", base+"/deliveries", admin, nil), 404)
}
