package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Email is an e-mail to send, as the service composed it.
type Email struct {
	MessageID string // "<…@…>", the same at every attempt
	To        string
	Subject   string
	Body      string // plain text
}

// Mailer sends e-mails (SMTP in production). A refusal that a retry cannot
// fix is a *PermanentError.
type Mailer interface {
	Send(ctx context.Context, e Email) error
}

// PermanentError is a refusal a retry cannot fix (an SMTP 5xx reply, say):
// the e-mail becomes a dead letter at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// DeliverEmails claims up to max e-mails due now for owner, sends each through
// m and records each attempt: sent, or failed as the e-mail RetryPolicy says.
// It returns how many were sent. A row is sent at most once per claim; the one
// window for a duplicate is a crash (or a lost database) between m's
// acceptance and the record, after which the lease expires and the row is
// sent again, with the same Message-ID so that mail clients show it once. The
// batch gets the lease's time at most.
func (s *Service) DeliverEmails(ctx context.Context, m Mailer, owner string, max int) (int, error) {
	lease := s.cfg.Email.Lease
	ctx, cancel := context.WithTimeout(ctx, lease)
	defer cancel()
	now := s.now()
	rows, err := s.store.Claim(ctx, store.ChannelEmail, owner, max, now, now.Add(lease))
	sent := 0
	for _, r := range rows {
		e, serr := s.composeEmail(ctx, r)
		if serr == nil {
			serr = m.Send(ctx, e)
		}
		a := Attempt{Owner: owner}
		if serr != nil {
			var permanent *PermanentError
			a.Error, a.Permanent = serr.Error(), errors.As(serr, &permanent)
		}
		if _, _, rerr := s.record(ctx, r, a); rerr != nil {
			err = errors.Join(err, fmt.Errorf("record the attempt at %s: %w", r.ID, rerr))
		}
		if serr == nil {
			sent++
		}
	}
	return sent, err
}

// composeEmail writes a row's e-mail: its notification, or the digest of the
// notifications gathered in it, oldest first.
func (s *Service) composeEmail(ctx context.Context, r store.OutboxRow) (Email, error) {
	e := Email{MessageID: r.MessageID, To: r.ToAddr}
	var b strings.Builder
	if r.Kind == store.KindDigest {
		items, err := s.store.DigestContent(ctx, r.ID)
		if err != nil {
			return e, err
		}
		e.Subject = "[ROME] " + digestTitle(len(items))
		b.WriteString("What happened on the Plateforme du ROME since your last digest:\n\n")
		for _, n := range items {
			b.WriteString("- " + n.CreatedAt.UTC().Format("2006-01-02 15:04") + " UTC " + n.Title + "\n")
			s.writeDetails(&b, n, "  ")
		}
	} else {
		n, err := s.store.Notification(ctx, r.NotificationID)
		if err != nil {
			return e, err
		}
		e.Subject = "[ROME] " + n.Title
		b.WriteString(n.Title + "\n\n")
		s.writeDetails(&b, n, "")
	}
	if r.Sub == "" {
		b.WriteString("\n--\nPlateforme du ROME. You receive this e-mail because you wrote to the ROME team.\n")
	} else {
		b.WriteString("\n--\nPlateforme du ROME. Choose what you receive in your notification preferences.\n")
	}
	e.Body = b.String()
	return e, nil
}

func (s *Service) writeDetails(b *strings.Builder, n store.Notification, indent string) {
	if n.Text != "" {
		b.WriteString(indent + n.Text + "\n")
	}
	if n.RequestID != "" {
		b.WriteString(indent + "Request: " + n.RequestID + "\n")
	}
	if n.CodeRome != "" {
		b.WriteString(indent + "Fiche: " + n.CodeRome + "\n")
	}
	if n.Link != "" {
		b.WriteString(indent + "Link: " + s.absolute(n.Link) + "\n")
	}
}

// digestTitle names a digest of n notifications, on every channel.
func digestTitle(n int) string {
	return fmt.Sprintf("Your daily digest: %d notification(s)", n)
}

// absolute resolves a link relative to the platform (starting with "/")
// against its public URL.
func (s *Service) absolute(link string) string {
	if strings.HasPrefix(link, "/") {
		return strings.TrimSuffix(s.cfg.PublicURL, "/") + link
	}
	return link
}
