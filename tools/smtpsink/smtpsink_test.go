package smtpsink

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
)

func start(t *testing.T) *Sink {
	t.Helper()
	s, err := Start("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func send(s *Sink, headers, body string) error {
	msg := "From: a@example.org\r\nTo: b@example.org\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\nMessage-ID: <m1@test>\r\n" +
		headers + "\r\n" + body
	return smtp.SendMail(s.SMTPAddr(), nil, "a@example.org", []string{"b@example.org"}, []byte(msg))
}

func TestDecodesBodies(t *testing.T) {
	s := start(t)
	text := "Une demande d'évolution attend votre avis, une ligne assez longue pour être coupée par l'encodage quoted-printable.\r\nFin.\r\n"
	qp := "Une demande d'=C3=A9volution attend votre avis, une ligne assez longue pour =\r\n=C3=AAtre coup=C3=A9e par l'encodage quoted-printable.\r\nFin.\r\n"
	b64 := base64.StdEncoding.EncodeToString([]byte(text))
	b64 = b64[:40] + "\r\n" + b64[40:]
	for _, c := range []struct{ headers, body string }{
		{"Content-Transfer-Encoding: quoted-printable\r\n", qp},
		{"Content-Transfer-Encoding: base64\r\n", b64},
		{"", "plain\r\n"},
	} {
		if err := send(s, c.headers, c.body); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Messages()
	if len(got) != 3 {
		t.Fatalf("messages: %+v", got)
	}
	for i, want := range []string{text, text, "plain\r\n"} {
		if got[i].Body != want {
			t.Errorf("body %d: %q, want %q", i, got[i].Body, want)
		}
	}
	m := got[0]
	if m.Subject != "Café" || m.MessageID != "<m1@test>" || m.From != "a@example.org" || len(m.To) != 1 || m.To[0] != "b@example.org" {
		t.Fatalf("message: %+v", m)
	}
}

func TestFaultsOverHTTP(t *testing.T) {
	s := start(t)
	post := func(body string) int {
		res, err := http.Post(s.HTTPURL()+"/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(`{"rejectNext":2}`); code != http.StatusNoContent {
		t.Fatalf("faults: %d", code)
	}
	for range 2 {
		var te *textproto.Error
		if err := send(s, "", "x\r\n"); !errors.As(err, &te) || te.Code != 451 {
			t.Fatalf("injected fault: %v", err)
		}
	}
	if err := send(s, "", "x\r\n"); err != nil {
		t.Fatal(err)
	}
	if s.Rejected() != 2 || len(s.Messages()) != 1 {
		t.Fatalf("rejected %d, messages %d", s.Rejected(), len(s.Messages()))
	}
	if code := post(`{"rejectNext":1,"code":250}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad code: %d", code)
	}
	if code := post(`{"reject":1}`); code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", code)
	}
	res, err := http.Get(s.HTTPURL() + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []Message `json:"items"`
	}
	err = json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("GET /messages: %+v %v", list, err)
	}
	req, _ := http.NewRequest(http.MethodDelete, s.HTTPURL()+"/messages", nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /messages: %v %v", res, err)
	}
	if len(s.Messages()) != 0 {
		t.Fatal("messages not forgotten")
	}
}
