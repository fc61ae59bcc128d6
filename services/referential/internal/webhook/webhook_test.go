package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
)

// The test vector the Standard Webhooks libraries check their signatures against
// (standard-webhooks/standard-webhooks, libraries/go/webhook_symmetric_test.go).
func TestSignMatchesTheSpecificationsVector(t *testing.T) {
	t.Parallel()
	sig, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; sig != want {
		t.Fatalf("signature %s, want %s", sig, want)
	}
}

func TestHeadersCarryOneSignaturePerSecret(t *testing.T) {
	t.Parallel()
	current, previous := webhook.NewSecret(), webhook.NewSecret()
	at := time.Unix(1_800_000_000, 0)
	body := []byte(`{"type":"version.published"}`)
	h, err := webhook.Headers([]string{current, previous}, "msg_1", at, body)
	if err != nil {
		t.Fatal(err)
	}
	if h["webhook-id"] != "msg_1" || h["webhook-timestamp"] != "1800000000" {
		t.Fatalf("headers %v", h)
	}
	sigs := strings.Split(h["webhook-signature"], " ")
	for i, secret := range []string{current, previous} {
		want, _ := webhook.Sign(secret, "msg_1", at, body)
		if len(sigs) != 2 || sigs[i] != want {
			t.Fatalf("signature %d: %q, want %q in %v", i, sigs, want, h)
		}
	}
	if _, err := webhook.Headers([]string{"whsec_not base64!"}, "msg_1", at, body); !errors.Is(err, webhook.ErrSecret) {
		t.Fatalf("a broken secret: %v", err)
	}
}

func TestSecretsAreLongEnoughAndDistinct(t *testing.T) {
	t.Parallel()
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+44 {
		t.Fatalf("secrets %q %q", a, b)
	}
}

func TestIDsAreStable(t *testing.T) {
	t.Parallel()
	ev := webhook.EventID(webhook.FicheChanged, 61, "M1805")
	if ev != webhook.EventID(webhook.FicheChanged, 61, "M1805") || ev == webhook.EventID(webhook.FicheChanged, 61, "M1806") ||
		ev == webhook.EventID(webhook.VersionPublished, 61, "") {
		t.Fatal("event ids are not one per event")
	}
	m := webhook.MessageID("wh_A", ev)
	if m != webhook.MessageID("wh_A", ev) || m == webhook.MessageID("wh_B", ev) || !strings.HasPrefix(m, "msg_") {
		t.Fatalf("message id %q is not one per endpoint and event", m)
	}
}

func TestScheduleDoublesUpToAnHourWithJitter(t *testing.T) {
	t.Parallel()
	s := webhook.DefaultSchedule
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	for i, w := range want {
		if got := s.Delay(i+1, 0.5); got != w {
			t.Errorf("failure %d: %s, want %s", i+1, got, w)
		}
	}
	if got := s.Delay(30, 0.5); got != time.Hour {
		t.Errorf("failure 30: %s, want 1h", got)
	}
	if lo, hi := s.Delay(1, 0), s.Delay(1, 0.999); lo != 4*time.Second || hi <= 5*time.Second || hi >= 6*time.Second {
		t.Errorf("jitter: %s..%s", lo, hi)
	}
	// The retries of an endpoint down for a day all happen before the span ends.
	var total time.Duration
	n := 0
	for total < 24*time.Hour {
		n++
		total += s.Delay(n, 0.5)
	}
	if s.Span <= 24*time.Hour {
		t.Fatalf("span %s: an endpoint down for a day would lose events", s.Span)
	}
	t.Logf("%d attempts in the first day", n)
}

func TestMatches(t *testing.T) {
	t.Parallel()
	all := []string{webhook.VersionPublished, webhook.FicheChanged}
	cases := []struct {
		events, filter []string
		typ            string
		codes          []string
		want           bool
	}{
		{all, nil, webhook.FicheChanged, []string{"M1805"}, true},
		{all, []string{"M1805"}, webhook.FicheChanged, []string{"M1805"}, true},
		{all, []string{"M1805"}, webhook.FicheChanged, []string{"K2204"}, false},
		{all, []string{"M1805"}, webhook.VersionPublished, []string{"K2204", "M1805"}, true},
		{all, []string{"M1805"}, webhook.VersionPublished, []string{"K2204"}, false},
		{all, []string{"M1805"}, webhook.VersionPublished, nil, true}, // a re-import names no fiche
		{[]string{webhook.VersionPublished}, nil, webhook.FicheChanged, []string{"M1805"}, false},
	}
	for i, c := range cases {
		if got := webhook.Matches(c.events, c.filter, c.typ, c.codes); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https://consumer.example/hooks/rome", "http://203.0.113.7:8080/h?x=1", "https://[2001:db8::1]/h"} {
		if _, err := webhook.CheckURL(u, false); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://consumer.example/h", "https://user:pw@consumer.example/h", "https:///h", "mailto:a@b.c",
		"https://consumer.example/h#frag", "http://127.0.0.1:9000/h", "http://localhost/h", "http://10.1.2.3/h", "http://[::1]/h",
		"http://169.254.169.254/latest/meta-data", "http://0.0.0.0/h", "http://[::ffff:192.168.1.1]/h", "http://100.64.0.1/h", "::"} {
		if _, err := webhook.CheckURL(u, false); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if _, err := webhook.CheckURL("http://127.0.0.1:9000/h", true); err != nil {
		t.Errorf("loopback refused although allowed: %v", err)
	}
	if _, err := webhook.CheckURL("https://user@127.0.0.1/h", true); err == nil {
		t.Error("credentials accepted when private addresses are allowed")
	}
}

// A name that resolves to a private address is refused when connecting, whatever
// CheckURL saw.
func TestClientRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, nil)
	if _, err := webhook.Client(time.Second, false).Do(req); !errors.Is(err, webhook.ErrPrivateAddress) {
		t.Fatalf("want ErrPrivateAddress, got %v", err)
	}
	res, err := webhook.Client(time.Second, true).Do(req.Clone(context.Background()))
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("allowed: %v %v", res, err)
	}
	res.Body.Close()
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
	}))
	defer srv.Close()
	res, err := webhook.Client(time.Second, true).Post(srv.URL, "application/json", nil)
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("%v %v", res, err)
	}
	res.Body.Close()
}
