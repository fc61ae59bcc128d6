package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/graphemu"
)

// graphClient trusts the Graph emulator's self-signed certificate, written in the stack's
// state dir.
func graphClient(t *testing.T, p *platform) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(p.stack.Options.StateDir, "graphemu-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

// graphState reads the Graph emulator's state over its HTTPS endpoint (self-signed
// certificate written in the stack's state dir).
func graphState(t *testing.T, p *platform) graphemu.State {
	t.Helper()
	res, err := graphClient(t, p).Get(p.Graph + "/_emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st graphemu.State
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func graphCall(t *testing.T, p *platform, method, path string, body any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, p.Graph+path, strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	res, err := graphClient(t, p).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d", method, path, res.StatusCode)
	}
}

// channelOf waits until the request has its Teams channel and returns it from the emulator.
func channelOf(t *testing.T, p *platform, token, id string) graphemu.ChannelState {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var r struct {
			Teams *struct {
				ChannelID string `json:"channelId"`
				WebURL    string `json:"webUrl"`
			} `json:"teams"`
		}
		callJSON(t, http.MethodGet, p.Intake+"/v1/requests/"+id, token, nil, http.StatusOK, &r)
		if r.Teams != nil && r.Teams.ChannelID != "" {
			for _, team := range graphState(t, p).Teams {
				for _, c := range team.Channels {
					if c.ID == r.Teams.ChannelID {
						return c
					}
				}
			}
			t.Fatalf("channel %s is on the request but not in Teams", r.Teams.ChannelID)
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s has no Teams channel", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// channelCount counts the channels whose summary links to the request.
func channelCount(st graphemu.State, requestID string) int {
	n := 0
	for _, team := range st.Teams {
		for _, c := range team.Channels {
			if len(c.Messages) > 0 && strings.Contains(c.Messages[0].Body.Content, requestID) {
				n++
			}
		}
	}
	return n
}

// One channel per request even while Graph answers 429 then 500 for a while; the request
// is not held up; questions are mirrored to the channel, and a reply written in Teams comes
// back into the request's history once.
func testTeamsChannel(t *testing.T, p *platform) {
	who := cast(t, p, "teams")
	graphCall(t, p, http.MethodPost, "/_emulator/faults", map[string]any{"method": "POST", "pathPrefix": "/v1.0/teams/", "status": 429, "retryAfterSeconds": 1, "times": 2})
	graphCall(t, p, http.MethodPost, "/_emulator/faults", map[string]any{"method": "POST", "pathPrefix": "/v1.0/teams/", "status": 500, "times": 2})
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "A1101", "title": "Conduite d'engins", "justification": "Branche agricole.",
		"operations": []map[string]any{{"op": "set_tags", "emploiCadre": false}},
	})
	waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second) // Graph's trouble does not hold the request up
	ch := channelOf(t, p, who.partner, r.ID)
	if n := channelCount(graphState(t, p), r.ID); n != 1 {
		t.Fatalf("%d channels for one request", n)
	}
	if len(ch.Messages) == 0 || !strings.Contains(ch.Messages[0].Body.Content, "Conduite d") {
		t.Errorf("the channel does not start with the request's summary: %+v", ch.Messages)
	}

	act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/questions", who.moder, map[string]any{"text": "Quel volume d'offres ?"}, http.StatusCreated, nil)
	eventually(t, 30*time.Second, "the question was not posted to the channel", func() bool {
		return channelHas(channelOf(t, p, who.partner, r.ID), "Quel volume d")
	})

	// The channel is private: the ROME team owns it, the partner was in it from the start,
	// the moderator joined when they acted.
	ch = channelOf(t, p, who.partner, r.ID)
	if ch.MembershipType != "private" || !hasMember(ch, "aad-rome-team", "owner") || !hasMember(ch, entraID("partner-teams"), "") ||
		!hasMember(ch, entraID(who.moderSub), "") || len(ch.Members) != 3 {
		t.Errorf("channel members %+v", ch.Members)
	}

	// The partner answers in Teams: Graph notifies the intake, the workflow records it once,
	// as the partner's.
	graphCall(t, p, http.MethodPost, "/_emulator/teams/rome-team/channels/"+ch.ID+"/messages",
		map[string]any{"from": map[string]string{"id": entraID("partner-teams"), "displayName": "Alice Martin"}, "text": "Environ 300 par mois."})
	eventually(t, 30*time.Second, "the Teams reply is not in the history once", func() bool {
		return count(types(history(t, p, who.partner, r.ID)), "teams_reply") == 1
	})
	for _, e := range history(t, p, who.partner, r.ID) {
		if e.Type == "teams_reply" && (e.Actor.Sub != "partner-teams" || e.Actor.Role != "partner") {
			t.Errorf("the reply is recorded as %+v, not the partner's", e.Actor)
		}
	}

	act(t, p, who.partner, r.ID, "withdraw", map[string]any{"reason": "Doublon."}, http.StatusOK)
	eventually(t, 30*time.Second, "the channel of a closed request is not archived", func() bool {
		return channelOf(t, p, who.partner, r.ID).IsArchived
	})
}

// hasMember tells whether the channel lists the user, with the role ("" for a member).
func hasMember(c graphemu.ChannelState, userID, role string) bool {
	for _, m := range c.Members {
		if m.UserID == userID && (role == "" && len(m.Roles) == 0 || len(m.Roles) == 1 && m.Roles[0] == role) {
			return true
		}
	}
	return false
}

func channelHas(c graphemu.ChannelState, text string) bool {
	for _, m := range c.Messages {
		if strings.Contains(m.Body.Content, text) {
			return true
		}
	}
	return false
}

// A submission notifies the moderators: in the inbox, and by e-mail once to those who
// gave an address.
func testNotifications(t *testing.T, p *platform) {
	who := cast(t, p, "notif")
	callJSON(t, http.MethodPut, p.Notifications+"/v1/notifications/preferences", who.moder,
		map[string]any{"email": "moderator-notif@example.org"}, http.StatusOK, nil)
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "B1101", "title": "Notification e2e", "justification": "Test.",
		"operations": []map[string]any{{"op": "set_tags", "emploiCadre": true}},
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		var inbox struct {
			Items []struct {
				RequestID string `json:"requestId"`
				Event     string `json:"event"`
			} `json:"items"`
			UnreadCount int `json:"unreadCount"`
		}
		callJSON(t, http.MethodGet, p.Notifications+"/v1/notifications", who.moder, nil, http.StatusOK, &inbox)
		found := 0
		for _, it := range inbox.Items {
			if it.RequestID == r.ID && it.Event == "submitted" {
				found++
			}
		}
		if found == 1 && inbox.UnreadCount >= 1 {
			break
		}
		if found > 1 || time.Now().After(deadline) {
			t.Fatalf("moderator inbox has %d 'submitted' notifications for %s", found, r.ID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		sent := 0
		for _, m := range mailsTo(t, p, "moderator-notif@example.org") {
			if strings.Contains(m.Body, r.ID) {
				sent++
			}
		}
		if sent == 1 {
			break
		}
		if sent > 1 || time.Now().After(deadline) {
			t.Fatalf("%d e-mails to the moderator about %s", sent, r.ID)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
