package graphemu_test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/graphemu"
)

func persistent(t *testing.T, stateFile string) *graphemu.Emulator {
	t.Helper()
	emu, err := graphemu.NewPersistent(graphemu.Config{NotificationBackoff: 10 * time.Millisecond}, stateFile)
	if err != nil {
		t.Fatal(err)
	}
	return emu
}

// hook is a notification endpoint that echoes validation tokens and records notifications.
type hook struct {
	*httptest.Server
	mu  sync.Mutex
	got []string // ids of the messages notified
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			_, _ = io.WriteString(w, tok)
			return
		}
		var body struct {
			Value []struct {
				ResourceData struct {
					ID string `json:"id"`
				} `json:"resourceData"`
			} `json:"value"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		h.mu.Lock()
		for _, v := range body.Value {
			h.got = append(h.got, v.ResourceData.ID)
		}
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) notified() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// Everything a client changed is found again by an emulator started on the same file,
// and clients carry on with the tokens and subscriptions they had.
func TestStateSurvivesARestart(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "graphemu-state.json")
	first := persistent(t, stateFile)
	c := serve(t, first)
	h := newHook(t)

	st, private, _ := c.do("POST", channels, map[string]any{"displayName": "REQ-1 privé", "membershipType": "private",
		"members": []any{map[string]any{"user@odata.bind": "https://graph.microsoft.com/v1.0/users('owner')", "roles": []string{"owner"}}}})
	if st != 201 {
		t.Fatalf("create private channel: %d %v", st, private)
	}
	privateID := url.PathEscape(private["id"].(string))
	if st, body, _ := c.do("POST", channels+"/"+privateID+"/members", map[string]any{"user@odata.bind": "users('alice')", "roles": []string{}}); st != 201 {
		t.Fatalf("add member: %d %v", st, body)
	}
	if st, body, _ := c.do("POST", channels+"/"+privateID+"/messages", map[string]any{"body": map[string]any{"content": "Bonjour"}}); st != 201 {
		t.Fatalf("post: %d %v", st, body)
	}
	st, sub, _ := c.do("POST", "/v1.0/subscriptions", map[string]any{"changeType": "created", "clientState": "cs",
		"resource": "/teams/rome-team/channels/" + private["id"].(string) + "/messages", "notificationUrl": h.URL,
		"expirationDateTime": time.Now().Add(30 * time.Minute).UTC()})
	if st != 201 {
		t.Fatalf("subscribe: %d %v", st, sub)
	}
	var reply graphemu.UserMessage
	reply.From.ID, reply.From.DisplayName, reply.Text = "alice", "Alice", "Une réponse"
	if _, err := first.PostUserMessage("rome-team", private["id"].(string), reply); err != nil {
		t.Fatal(err)
	}
	_, archived, _ := c.do("POST", channels, map[string]any{"displayName": "REQ-2"})
	if st, _, _ := c.do("POST", channels+"/"+url.PathEscape(archived["id"].(string))+"/archive", nil); st != 202 {
		t.Fatalf("archive: %d", st)
	}
	if st, body, _ := c.do("POST", "/v1.0/users/alice/teamwork/sendActivityNotification", map[string]any{
		"topic": map[string]any{"source": "text", "value": "REQ-1", "webUrl": "https://rome.example/demandes/1"}, "activityType": "requestUpdated",
	}); st != 204 {
		t.Fatalf("activity notification: %d %v", st, body)
	}
	c.stop() // the notification of the reply has been delivered
	before := first.State()

	second := persistent(t, stateFile)
	after := second.State()
	if a, b := asJSON(t, after), asJSON(t, before); a != b {
		t.Fatalf("state after the restart:\n%s\nwant:\n%s", a, b)
	}
	if len(after.Teams[0].Channels) != 2 || len(after.Teams[0].Channels[0].Messages) != 2 || len(after.Teams[0].Channels[0].Members) != 2 ||
		len(after.Subscriptions) != 1 || len(after.ActivityFeed) != 1 || len(after.Deliveries) != 1 || !after.Deliveries[0].Delivered {
		t.Fatalf("the state saved lacks something: %+v", after)
	}

	// The token issued before the restart is still accepted, the archived channel still
	// refuses messages, and the subscription still notifies.
	c2 := serve(t, second)
	c2.token = c.token
	if st, body, _ := c2.do("GET", channels+"/"+privateID+"/messages", nil); st != 200 || len(body["value"].([]any)) != 2 {
		t.Fatalf("messages with the token of before the restart: %d %v", st, body)
	}
	if st, _, _ := c2.do("POST", channels+"/"+url.PathEscape(archived["id"].(string))+"/messages", map[string]any{"body": map[string]any{"content": "x"}}); st != 403 {
		t.Fatalf("post to the archived channel after the restart: %d, want 403", st)
	}
	m, err := second.PostUserMessage("rome-team", private["id"].(string), reply)
	if err != nil {
		t.Fatal(err)
	}
	c2.stop()
	if got := h.notified(); len(got) != 2 || got[1] != m.ID {
		t.Fatalf("notified messages %v, want the one posted after the restart last (%s)", got, m.ID)
	}
}

func TestNewPersistentStartsEmptyWithoutAFile(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "state.json")
	emu := persistent(t, stateFile)
	if st := emu.State(); len(st.Teams) != 1 || st.Teams[0].ID != graphemu.DefaultTeamID || len(st.Teams[0].Channels) != 0 {
		t.Fatalf("state = %+v", st)
	}
	if _, err := os.Stat(stateFile); err == nil {
		t.Fatal("the file is written before any change")
	}
	c := serve(t, emu)
	if st, _, _ := c.do("POST", channels, map[string]any{"displayName": "REQ-3"}); st != 201 {
		t.Fatalf("create: %d", st)
	}
	// Written within the save interval, without a Flush.
	deadline := time.Now().Add(5 * time.Second)
	for _, err := os.Stat(stateFile); err != nil && time.Now().Before(deadline); _, err = os.Stat(stateFile) {
		time.Sleep(10 * time.Millisecond)
	}
	if b, err := os.ReadFile(stateFile); err != nil || !bytes.Contains(b, []byte(`"REQ-3"`)) {
		t.Fatalf("state file after a change: %s %v", b, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(stateFile), ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestNewPersistentRefusesAnUnreadableFile(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(stateFile, []byte(`{"teams": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := graphemu.NewPersistent(graphemu.Config{}, stateFile)
	if err == nil || !strings.Contains(err.Error(), stateFile) {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

// A state that cannot be written is reported and written again with the next change's:
// nothing is lost while the emulator runs.
func TestAStateThatCannotBeSavedIsSavedLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(dir, "state.json")
	emu := persistent(t, stateFile)
	c := serve(t, emu)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := c.do("POST", channels, map[string]any{"displayName": "REQ-4"}); st != 201 {
		t.Fatalf("create with the state dir gone: %d", st)
	}
	if err := emu.Flush(); err == nil || !strings.Contains(err.Error(), "save the emulator's state") {
		t.Fatalf("Flush with the state dir gone: %v", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := emu.Flush(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(stateFile); err != nil || !bytes.Contains(b, []byte(`"REQ-4"`)) {
		t.Fatalf("state file once it can be written: %s %v", b, err)
	}
}

func TestCertificateFilesAreReused(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, err := graphemu.CertificateFiles(certFile, keyFile, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	again, err := graphemu.CertificateFiles(certFile, keyFile, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Certificate[0], first.Certificate[0]) {
		t.Error("a restart made a new certificate: clients that read the old one would refuse the emulator")
	}
	other, err := graphemu.CertificateFiles(certFile, keyFile, "127.0.0.1", "graph.local")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.Certificate[0], first.Certificate[0]) {
		t.Error("the certificate was reused for a host it does not name")
	}
	if onDisk := certOnDisk(t, certFile); !bytes.Equal(onDisk, other.Certificate[0]) {
		t.Error("the new certificate was not written for clients to trust")
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	replaced, err := graphemu.CertificateFiles(certFile, keyFile, "127.0.0.1", "graph.local")
	if err != nil {
		t.Fatalf("a damaged key is not replaced: %v", err)
	}
	if bytes.Equal(replaced.Certificate[0], other.Certificate[0]) || !bytes.Equal(certOnDisk(t, certFile), replaced.Certificate[0]) {
		t.Error("a damaged key did not make a new certificate")
	}
}

// certOnDisk is the DER of the certificate in a PEM file.
func certOnDisk(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no certificate: %q", path, b)
	}
	return block.Bytes
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
