// Package delivery makes the outbox's deliveries: an SMTP sender and the
// dispatcher that claims due e-mails and sends them, the Teams channel that
// hands due activity-feed notifications to the worker and records its
// reports, one retry policy with a dead-letter list for both, and the
// scheduler of daily digests.
package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// SMTP sends messages to one SMTP server: STARTTLS when the server offers
// it, PLAIN authentication when a username is set (net/smtp refuses it
// without TLS except on localhost).
type SMTP struct {
	Addr     string
	Username string
	Password string
	Timeout  time.Duration
}

// Message is one e-mail.
type Message struct {
	ID      string // Message-ID header, "<…@…>", stable across retries
	From    string
	To      string
	Subject string
	Body    string
}

// PermanentError is an SMTP refusal a retry cannot fix (a 5xx reply).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Send delivers m within ctx and the timeout.
func (s SMTP) Send(ctx context.Context, m Message) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return classify(err)
	}
	defer c.Close()
	if err := s.send(c, host, m); err != nil {
		return classify(err)
	}
	return nil
}

func (s SMTP) send(c *smtp.Client, host string, m Message) error {
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return err
		}
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return &PermanentError{fmt.Errorf("sender address: %w", err)}
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.bytes()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The server has accepted the message: a failed QUIT must not make the
	// dispatcher send it again.
	_ = c.Quit()
	return nil
}

// classify marks 5xx replies permanent.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return &PermanentError{err}
	}
	return err
}

// bytes renders m as an RFC 5322 message, UTF-8 text in quoted-printable.
func (m Message) bytes() []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", m.From)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", m.ID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
