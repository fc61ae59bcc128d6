package targets

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
)

// benchModerators is the number of moderators of issue #12's directory.
const benchModerators = 500

// BenchmarkSubmissionFanOut measures the notification of a submission, addressed to the
// moderators' role, with a directory of 500 moderators: a real Directory asks a fake intake
// over loopback HTTP (one page of limit 1000). The app's unexported audience and plan cannot
// be called from here (targets imports app, so app's own tests cannot use a real Directory),
// so Notify is measured end to end and split by a GORM callback at its first insert:
// "decision" is from the call to that insert (the key's replay lookup, the directory, the
// local users and preferences, the fan-out, the transaction's start); "notify" adds the
// inserts (the notification, 500 inbox rows, the deliveries and digest items) and the commit.
// It runs without local preferences and with 100 of the moderators having chosen their own
// address and a daily digest. "directory" is the directory's call alone.
func BenchmarkSubmissionFanOut(b *testing.B) {
	intake := fakeIntake(b, benchModerators)
	b.Run("directory", func(b *testing.B) {
		dir := NewDirectory(intake.URL, intake.Client())
		var took []time.Duration
		for b.Loop() {
			start := time.Now()
			people, err := dir.ActivePeople(b.Context(), app.PeopleQuery{Roles: []string{"moderator"}})
			took = append(took, time.Since(start))
			if err != nil || len(people) != benchModerators {
				b.Fatalf("%d people, %v", len(people), err)
			}
		}
		reportLatency(b, took, "")
	})
	for _, d := range dbtest.Dialects() {
		for _, chosen := range []int{0, 100} {
			b.Run(fmt.Sprintf("%s/%d preferences", d, chosen), func(b *testing.B) {
				db := dbtest.Open(b, d)
				env := apptest.NewWithDirectory(b, db, nil, NewDirectory(intake.URL, intake.Client()))
				for i := range chosen {
					env.Person(moderator(i*benchModerators/chosen), "", apptest.EmailDaily)
				}
				var inserting time.Time // when Notify's first insert began
				if err := db.Callback().Create().Before("gorm:create").Register("bench:first_insert", func(*gorm.DB) {
					if inserting.IsZero() {
						inserting = time.Now()
					}
				}); err != nil {
					b.Fatal(err)
				}
				n := notifclient.Notification{Event: notifclient.EventSubmitted, RequestID: "req-bench", CodeRome: "M1805", Org: "org-07",
					Title: "M1805 : nouvelle demande", Link: "/demandes/req-bench", Actor: notifclient.Actor{Sub: "partner-00007", Role: "partner", Org: "org-07"},
					To: notifclient.Recipients{Roles: []string{"moderator"}}, ExcludeUsers: []string{"partner-00007"}}
				var decision, total []time.Duration
				for i := 0; b.Loop(); i++ {
					n.Key = fmt.Sprintf("bench-%d", i)
					inserting = time.Time{}
					start := time.Now()
					created, replayed, err := env.App.Notify(b.Context(), n)
					total = append(total, time.Since(start))
					decision = append(decision, inserting.Sub(start))
					if err != nil || replayed || len(created.Recipients) != benchModerators {
						b.Fatalf("notify: %d recipients, replayed %v, %v", len(created.Recipients), replayed, err)
					}
				}
				reportLatency(b, decision, "decision-")
				reportLatency(b, total, "notify-")
			})
		}
	}
}

func moderator(i int) string { return fmt.Sprintf("mod-%04d", i) }

// fakeIntake answers GET /v1/people?role=moderator&active=true&limit=1000 as the intake does
// for a directory of n active moderators: one page of their whole entries. The page is
// encoded once: the intake's own work is measured by its BenchmarkPeopleForNotifications.
func fakeIntake(b *testing.B, n int) *httptest.Server {
	type person struct {
		Sub       string    `json:"sub"`
		EntraID   string    `json:"entraId"`
		Name      string    `json:"name"`
		Email     string    `json:"email"`
		Role      string    `json:"role"`
		Active    bool      `json:"active"`
		OrgActive bool      `json:"orgActive"`
		Source    string    `json:"source"`
		CreatedAt time.Time `json:"createdAt"`
		UpdatedAt time.Time `json:"updatedAt"`
	}
	var page struct {
		Items []person `json:"items"`
	}
	now := time.Now().UTC()
	for i := range n {
		sub := moderator(i)
		page.Items = append(page.Items, person{Sub: sub, EntraID: "entra-" + sub, Name: "Personne " + sub, Email: sub + "@francetravail.fr",
			Role: "moderator", Active: true, OrgActive: true, Source: "admin", CreatedAt: now, UpdatedAt: now})
	}
	body, err := json.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/v1/people" || q.Get("role") != "moderator" || q.Get("active") != "true" || q.Get("limit") != "1000" {
			http.Error(w, "unexpected query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// reportLatency reports the median and 95th percentile of took, in milliseconds, as
// prefix+"p50-ms" and prefix+"p95-ms".
func reportLatency(b *testing.B, took []time.Duration, prefix string) {
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))]) / 1e6 }
	b.ReportMetric(at(0.50), prefix+"p50-ms")
	b.ReportMetric(at(0.95), prefix+"p95-ms")
}
