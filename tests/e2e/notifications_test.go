package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/graphemu"
	"github.com/plateforme-rome/rome/tools/smtpsink"
)

// eventually polls cond until it holds, or fails the test after within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mailsTo lists the e-mails the SMTP sink received for an address.
func mailsTo(t *testing.T, p *platform, addr string) []smtpsink.Message {
	t.Helper()
	var mail struct {
		Items []smtpsink.Message `json:"items"`
	}
	callJSON(t, http.MethodGet, p.Mail+"/messages", "", nil, http.StatusOK, &mail)
	return slices.DeleteFunc(mail.Items, func(m smtpsink.Message) bool { return !slices.Contains(m.To, addr) })
}

// feedOf lists the Teams activity-feed notifications a person received about a request
// (their link opens the request's page).
func feedOf(t *testing.T, p *platform, userID, requestID string) []graphemu.ActivityNotification {
	t.Helper()
	return slices.DeleteFunc(graphState(t, p).ActivityFeed, func(n graphemu.ActivityNotification) bool {
		return n.UserID != userID || !strings.Contains(n.WebURL, requestID)
	})
}

// Preferences are honoured end to end: a moderator who wants submissions in Teams and not
// by e-mail gets one activity-feed notification (even though Graph throttles and fails for
// a while) and no e-mail; a partner who wants questions in a daily digest gets a digest
// with the question, and no e-mail of its own for it.
func testNotificationPreferences(t *testing.T, p *platform) {
	who := cast(t, p, "prefs")
	const moderatorMail, partnerMail = "moderator-prefs@example.org", "partner-prefs@example.org"
	callJSON(t, http.MethodPut, p.Notifications+"/v1/notifications/preferences", who.moder, map[string]any{
		"email":  moderatorMail,
		"events": map[string]any{"submitted": map[string]any{"inApp": true, "email": false, "teams": true, "frequency": "immediate"}},
	}, http.StatusOK, nil)
	callJSON(t, http.MethodPut, p.Notifications+"/v1/notifications/preferences", who.partner, map[string]any{
		"email":  partnerMail,
		"events": map[string]any{"question": map[string]any{"inApp": true, "email": true, "teams": false, "frequency": "daily"}},
	}, http.StatusOK, nil)
	graphCall(t, p, http.MethodPost, "/_emulator/faults", map[string]any{"method": "POST", "pathPrefix": "/v1.0/users/", "status": 429, "retryAfterSeconds": 1, "times": 1})
	graphCall(t, p, http.MethodPost, "/_emulator/faults", map[string]any{"method": "POST", "pathPrefix": "/v1.0/users/", "status": 503, "times": 1})

	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "B1101", "title": "Préférences e2e", "justification": "Test.",
		"operations": []map[string]any{{"op": "set_tags", "emploiCadre": true}},
	})
	eventually(t, 60*time.Second, "no Teams notification of the submission for the moderator", func() bool {
		return len(feedOf(t, p, entraID(who.moderSub), r.ID)) > 0
	})
	waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second)
	act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/questions", who.moder, map[string]any{"text": "Combien de postes ?"}, http.StatusCreated, nil)

	var digest smtpsink.Message
	eventually(t, 60*time.Second, "no digest with the question for the partner", func() bool {
		for _, m := range mailsTo(t, p, partnerMail) {
			if strings.Contains(m.Subject, "digest") && strings.Contains(m.Body, r.ID) {
				digest = m
				return true
			}
		}
		return false
	})
	if !strings.Contains(digest.Body, "question de") {
		t.Errorf("the digest does not carry the question:\n%s", digest.Body)
	}
	for _, m := range mailsTo(t, p, partnerMail) { // (reminders come at once: the shortened timers send some)
		if strings.Contains(m.Subject, "question de") {
			t.Errorf("the partner got the question in an e-mail of its own: %s", m.Subject)
		}
	}
	if n := len(feedOf(t, p, entraID(who.moderSub), r.ID)); n != 1 {
		t.Errorf("%d Teams notifications of one submission", n)
	}
	for _, m := range mailsTo(t, p, moderatorMail) {
		if strings.Contains(m.Body, r.ID) && strings.Contains(m.Subject, "déposée par") {
			t.Errorf("the moderator got the submission by e-mail: %s", m.Subject)
		}
	}
}
