// Package delivery runs the service's background work and sends its e-mails:
// the dispatcher, which has the app deliver the outbox's due e-mails at every
// poll, the scheduler of daily digests, and the SMTP mailer. What is due, to
// whom and when it is tried again are the app's rules (package app).
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

	"github.com/plateforme-rome/rome/services/notifications/internal/app"
)

// SMTP sends e-mails from From to one SMTP server (app.Mailer): STARTTLS
// when the server offers it, PLAIN authentication when a username is set
// (net/smtp refuses it without TLS except on localhost). A 5xx reply is an
// *app.PermanentError.
type SMTP struct {
	Addr     string
	Username string
	Password string
	From     string // the sender, e.g. "Plateforme du ROME <notifications@…>"
	Timeout  time.Duration
}

// Send delivers m within ctx and the timeout.
func (s SMTP) Send(ctx context.Context, m app.Email) error {
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

func (s SMTP) send(c *smtp.Client, host string, m app.Email) error {
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
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return &app.PermanentError{Err: fmt.Errorf("sender address: %w", err)}
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
	if _, err := w.Write(message(s.From, m)); err != nil {
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
		return &app.PermanentError{Err: err}
	}
	return err
}

// message renders m from from as an RFC 5322 message, UTF-8 text in
// quoted-printable.
func message(from string, m app.Email) []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", m.MessageID)
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
