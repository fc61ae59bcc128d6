package smtpsink

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func startPersistent(t *testing.T, mailFile string) *Sink {
	t.Helper()
	s, err := StartPersistent("127.0.0.1:0", "127.0.0.1:0", mailFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func messagesJSON(t *testing.T, s *Sink) string {
	t.Helper()
	b, err := json.Marshal(s.Messages())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMessagesSurviveARestart(t *testing.T) {
	mailFile := filepath.Join(t.TempDir(), "mail.jsonl")
	first := startPersistent(t, mailFile)
	for _, body := range []string{"première\r\n", "seconde\r\n"} {
		if err := send(first, "", body); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := startPersistent(t, mailFile)
	if got, want := messagesJSON(t, second), messagesJSON(t, first); got != want {
		t.Fatalf("messages after the restart:\n%s\nwant:\n%s", got, want)
	}
	if got := second.Messages(); len(got) != 2 || got[0].Body != "première\r\n" || got[0].Subject != "Café" {
		t.Fatalf("messages after the restart: %+v", got)
	}
	if err := send(second, "", "troisième\r\n"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, second.HTTPURL()+"/messages", nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /messages: %v %v", res, err)
	}
	if err := send(second, "", "après l'effacement\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}

	third := startPersistent(t, mailFile)
	if got := third.Messages(); len(got) != 1 || got[0].Body != "après l'effacement\r\n" {
		t.Fatalf("after DELETE /messages and a restart: %+v, want only the message sent since", got)
	}
}

// A crash in the middle of an append leaves half a line, never acknowledged to the sender:
// it is dropped, and what follows is stored on a line of its own.
func TestATornLastLineIsCutOff(t *testing.T) {
	mailFile := filepath.Join(t.TempDir(), "mail.jsonl")
	first := startPersistent(t, mailFile)
	if err := send(first, "", "entier\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(mailFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"from":"a@example.org","body":"coup`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	second := startPersistent(t, mailFile)
	if got := second.Messages(); len(got) != 1 || got[0].Body != "entier\r\n" {
		t.Fatalf("messages: %+v", got)
	}
	if err := send(second, "", "suivant\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	third := startPersistent(t, mailFile)
	if got := third.Messages(); len(got) != 2 || got[1].Body != "suivant\r\n" {
		t.Fatalf("messages: %+v", got)
	}
}

func TestAnUnreadableMailFileIsRefused(t *testing.T) {
	mailFile := filepath.Join(t.TempDir(), "mail.jsonl")
	if err := os.WriteFile(mailFile, []byte("{\"from\":\"a@example.org\"}\nnot json\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := StartPersistent("127.0.0.1:0", "127.0.0.1:0", mailFile)
	if err == nil || !strings.Contains(err.Error(), mailFile) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming the file and the line", err)
	}
}

// A message that cannot be written is refused with a transient failure, so the sender retries.
func TestAMessageThatCannotBeStoredIsRefusedForNow(t *testing.T) {
	s := startPersistent(t, filepath.Join(t.TempDir(), "mail.jsonl"))
	s.mu.Lock()
	_ = s.mailFile.Close()
	s.mu.Unlock()
	var te *textproto.Error
	if err := send(s, "", "perdu\r\n"); !errors.As(err, &te) || te.Code != 451 {
		t.Fatalf("send = %v, want a 451", err)
	}
	if got := s.Messages(); len(got) != 0 {
		t.Fatalf("an unsaved message is listed: %+v", got)
	}
}
