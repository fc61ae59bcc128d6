// Package smtpsink is a local SMTP server for development and tests. It speaks
// the real protocol (github.com/emersion/go-smtp), keeps every message it
// accepts in memory (Start) or also in a file that a restart reads back
// (StartPersistent), and serves them over HTTP:
//
//	GET    /messages  the received messages, oldest first (JSON)
//	DELETE /messages  forget them
//	POST   /faults    {"rejectNext":N,"code":451} refuses the next N messages
//
// Nothing is relayed anywhere.
package smtpsink

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message. Body is its text, its quoted-printable
// or base64 transfer encoding undone.
type Message struct {
	From       string              `json:"from"`
	To         []string            `json:"to"`
	Subject    string              `json:"subject"`
	MessageID  string              `json:"messageId"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
	ReceivedAt time.Time           `json:"receivedAt"`
}

// Faults is the body of POST /faults: the next RejectNext messages are
// refused at MAIL FROM with the SMTP reply Code (default 451: a transient
// failure the sender should retry).
type Faults struct {
	RejectNext int `json:"rejectNext"`
	Code       int `json:"code"`
}

// Sink is a running SMTP sink.
type Sink struct {
	smtp     *smtp.Server
	http     *http.Server
	smtpAddr string
	httpAddr string

	mu       sync.Mutex
	messages []Message
	faults   Faults
	rejected int
	mailFile *os.File // nil: the messages live in memory only
}

// Start listens for SMTP on smtpAddr and for HTTP on httpAddr (use
// "127.0.0.1:0" for free ports) and serves both until Close.
func Start(smtpAddr, httpAddr string) (*Sink, error) {
	return (&Sink{}).serve(smtpAddr, httpAddr)
}

// StartPersistent is Start with the messages also kept in mailFile, one JSON
// object a line: the messages already there are loaded, and each new one is
// appended and synced before the sender is told it was accepted. Injected
// faults are not kept.
func StartPersistent(smtpAddr, httpAddr, mailFile string) (*Sink, error) {
	f, messages, err := openMailFile(mailFile)
	if err != nil {
		return nil, err
	}
	s, err := (&Sink{mailFile: f, messages: messages}).serve(smtpAddr, httpAddr)
	if err != nil {
		f.Close()
	}
	return s, err
}

// serve listens on both addresses and serves s until Close.
func (s *Sink) serve(smtpAddr, httpAddr string) (*Sink, error) {
	sl, err := net.Listen("tcp", smtpAddr)
	if err != nil {
		return nil, fmt.Errorf("smtp listener: %w", err)
	}
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		sl.Close()
		return nil, fmt.Errorf("http listener: %w", err)
	}
	s.smtpAddr, s.httpAddr = sl.Addr().String(), hl.Addr().String()
	s.smtp = smtp.NewServer(backend{s})
	s.smtp.Domain = "smtpsink.local"
	s.smtp.MaxMessageBytes = 10 << 20
	s.smtp.MaxRecipients = 100
	s.smtp.ReadTimeout = time.Minute
	s.smtp.WriteTimeout = time.Minute
	s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.smtp.Serve(sl) }()
	go func() { _ = s.http.Serve(hl) }()
	return s, nil
}

// SMTPAddr is the host:port the SMTP server listens on.
func (s *Sink) SMTPAddr() string { return s.smtpAddr }

// HTTPURL is the base URL of the HTTP interface.
func (s *Sink) HTTPURL() string { return "http://" + s.httpAddr }

// Close stops both servers.
func (s *Sink) Close() error {
	err := errors.Join(s.smtp.Close(), s.http.Close())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mailFile != nil {
		err = errors.Join(err, s.mailFile.Close())
	}
	return err
}

// Messages returns a copy of the messages received so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Reset forgets the received messages, in the mail file too, and the pending faults.
func (s *Sink) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mailFile != nil {
		if err := s.mailFile.Truncate(0); err != nil {
			return fmt.Errorf("empty the mail file: %w", err)
		}
	}
	s.messages, s.faults = nil, Faults{}
	return nil
}

// Inject makes the next f.RejectNext messages fail with f.Code.
func (s *Sink) Inject(f Faults) error {
	if f.RejectNext < 0 {
		return errors.New("rejectNext must be zero or more")
	}
	if f.Code == 0 {
		f.Code = 451
	}
	if f.Code < 400 || f.Code > 599 {
		return errors.New("code must be an SMTP failure code (400-599)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	return nil
}

// Rejected counts the messages refused by injected faults.
func (s *Sink) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// reject consumes one injected fault, if any.
func (s *Sink) reject() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.RejectNext == 0 {
		return nil
	}
	s.faults.RejectNext--
	s.rejected++
	return &smtp.SMTPError{Code: s.faults.Code, EnhancedCode: smtp.EnhancedCode{s.faults.Code / 100, 3, 0}, Message: "injected fault"}
}

// store keeps m, in the mail file first when there is one.
func (s *Sink) store(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mailFile != nil {
		if err := appendMessage(s.mailFile, m); err != nil {
			return err
		}
	}
	s.messages = append(s.messages, m)
	return nil
}

type backend struct{ sink *Sink }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{sink: b.sink}, nil
}

type session struct {
	sink *Sink
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := s.sink.reject(); err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message: " + err.Error()}
	}
	body, err := io.ReadAll(decodeBody(msg.Header.Get("Content-Transfer-Encoding"), msg.Body))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "undecodable body: " + err.Error()}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	err = s.sink.store(Message{
		From: s.from, To: append([]string(nil), s.to...), Subject: subject,
		MessageID: msg.Header.Get("Message-Id"), Headers: msg.Header, Body: string(body), ReceivedAt: time.Now().UTC(),
	})
	if err != nil {
		// Transient: the sender keeps the message and tries again.
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "message not stored: " + err.Error()}
	}
	return nil
}

// decodeBody undoes the transfer encoding of a single-part body
// (quoted-printable or base64) so that readers see its text.
func decodeBody(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r) // which skips the line breaks
	}
	return r
}

func (s *Sink) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"items": s.Messages()})
	})
	mux.HandleFunc("DELETE /messages", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.Reset(); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := s.Inject(f); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
