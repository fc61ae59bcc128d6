package accessreq

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/workflows/access"
)

// roleLabels name the roles in the e-mails.
var roleLabels = map[string]string{"partner": "partenaire expert", "moderator": "modérateur", "admin": "administrateur"}

// Notify sends the notice the workflow of request id asks for (the internal API). The
// applicant's links are signed here, so they stay out of the workflow's history; key makes
// a retry send nothing twice.
func (s *Service) Notify(ctx context.Context, id, notice, key string) error {
	r, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	n, err := s.notice(r, notice, s.cfg.Now())
	if err != nil {
		return err
	}
	n.Key = key
	return s.send(ctx, n)
}

// notice writes one of the access.Notice* e-mails about r.
func (s *Service) notice(r access.Request, notice string, now time.Time) (notifclient.Notification, error) {
	applicant := func(title, text, link string) notifclient.Notification {
		return notifclient.Notification{Event: notifclient.EventAccessRequest, Title: title, Text: text, Link: link,
			Actor: notifclient.Actor{Sub: "rome-team", Name: "Équipe ROME"}, To: notifclient.Recipients{Emails: []string{r.Email}}}
	}
	hello := "Bonjour " + r.Name + ",\n\n"
	switch notice {
	case access.NoticeVerify:
		link := s.link(r.ID, "verifier", purposeVerify, now.Add(s.cfg.VerifyFor))
		return applicant("Confirmez votre adresse pour votre demande d'accès à la plateforme du ROME",
			hello+"Pour que l'équipe ROME examine votre demande d'accès, confirmez votre adresse en ouvrant ce lien dans les "+
				hours(s.cfg.VerifyFor)+" : "+link+"\n\nSi vous n'avez rien demandé, ignorez ce message : la demande expirera d'elle-même.", link), nil
	case access.NoticeReceived:
		return applicant("Votre demande d'accès à la plateforme du ROME est entre les mains de l'équipe ROME",
			hello+"Votre adresse est confirmée. L'équipe ROME examine votre demande d'accès ; vous recevrez sa réponse, "+
				"ou ses questions, à cette adresse.", ""), nil
	case access.NoticeQuestion:
		question := ""
		if len(r.Messages) > 0 {
			question = r.Messages[len(r.Messages)-1].Text
		}
		expires := now.Add(s.cfg.Timers.Applicant)
		if r.ExpiresAt != nil {
			expires = *r.ExpiresAt
		}
		link := s.link(r.ID, "repondre", purposeAnswer, expires)
		return applicant("L'équipe ROME a une question sur votre demande d'accès",
			hello+"L'équipe ROME vous demande :\n\n"+question+"\n\nRépondez ici avant le "+expires.Format("02/01/2006")+" : "+link, link), nil
	case access.NoticeApproved:
		if r.Decision == nil {
			return notifclient.Notification{}, httpx.Conflict("invalid_transition", "The access request has no decision.")
		}
		link := s.cfg.Page("/connexion")
		return applicant("Votre accès à la plateforme du ROME est ouvert",
			hello+"Votre demande d'accès est acceptée : vous contribuez en tant que "+roleLabels[r.Decision.Role]+
				". Connectez-vous avec votre adresse "+r.Email+" : "+link, link), nil
	case access.NoticeRejected:
		reason := ""
		if r.Decision != nil {
			reason = r.Decision.Reason
		}
		return applicant("Votre demande d'accès à la plateforme du ROME",
			hello+"L'équipe ROME n'a pas retenu votre demande d'accès, pour cette raison :\n\n"+reason+
				"\n\nVous pouvez toujours partager vos idées sur le ROME sans compte : "+s.cfg.Page("/idees"), ""), nil
	case access.NoticeExpired:
		return applicant("Votre demande d'accès à la plateforme du ROME a expiré",
			hello+"Votre demande d'accès a expiré sans suite. Vous pouvez en envoyer une nouvelle : "+s.cfg.Page("/acces"), s.cfg.Page("/acces")), nil
	case access.NoticeToReview:
		link := s.cfg.Page("/administration/acces/" + url.PathEscape(r.ID))
		if !s.cfg.Console {
			link = s.cfg.Page("/v1/access-requests/" + url.PathEscape(r.ID))
		}
		what := "Une demande d'accès"
		if r.VerifiedAt != nil && len(r.Messages) > 0 && r.Messages[len(r.Messages)-1].From == access.FromApplicant {
			what = "Le demandeur a répondu : sa demande d'accès"
		}
		return notifclient.Notification{Event: notifclient.EventAccessReview,
			Title: fmt.Sprintf("%s est à examiner : %s (%s)", what, r.Name, r.OrgName),
			Text:  fmt.Sprintf("%s, %s, %s.\nDomaines : %s\n\n%s", r.Name, r.Position, r.OrgName, strings.Join(r.Domains, ", "), r.Motivation),
			Link:  link, Actor: notifclient.Actor{Sub: "applicant", Name: r.Name}, To: notifclient.Recipients{Roles: []string{"admin"}}}, nil
	}
	return notifclient.Notification{}, httpx.Unprocessable("invalid_notice", "Unknown notice.",
		httpx.FieldError{Field: "notice", Message: "must be one of the access.Notice* values"})
}

// alreadyRegistered tells a person of the directory who applied again that they have an
// account (at most one such e-mail a day).
func (s *Service) alreadyRegistered(in NewRequest, now time.Time) notifclient.Notification {
	return notifclient.Notification{Key: "access-known-" + in.Email + "-" + now.Format("2006-01-02"), Event: notifclient.EventAccessRequest,
		Title: "Vous avez déjà accès à la plateforme du ROME",
		Text: "Bonjour " + in.Name + ",\n\nUne demande d'accès vient d'être envoyée avec votre adresse, qui a déjà un compte sur la plateforme du ROME. " +
			"Connectez-vous : " + s.cfg.Page("/connexion") + "\n\nSi vous n'avez rien demandé, ignorez ce message.",
		Link:  s.cfg.Page("/connexion"),
		Actor: notifclient.Actor{Sub: "rome-team", Name: "Équipe ROME"}, To: notifclient.Recipients{Emails: []string{in.Email}}}
}

// link is the signed address of one of the applicant's pages (page: verifier or repondre).
// Without a console it leads to the API's view of the request.
func (s *Service) link(id, page, purpose string, expires time.Time) string {
	token := s.cfg.Links.sign(id, purpose, expires)
	if s.cfg.Console {
		return s.cfg.Page("/acces/" + url.PathEscape(id) + "/" + page + "?jeton=" + url.QueryEscape(token))
	}
	return s.cfg.Page("/v1/access-requests/" + url.PathEscape(id) + "/applicant?token=" + url.QueryEscape(token))
}

func hours(d time.Duration) string { return fmt.Sprintf("%d heures", int(d.Hours())) }
