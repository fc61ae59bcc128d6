package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Targets asks the services that know whether what a follow names is there.
// RequestVisible asks with the caller's own bearer token, so that the intake
// applies its visibility rules (a partner sees only their organisation's
// requests). Both answer nil when the target is there, ErrTargetNotFound when
// it does not exist or is not visible, and any other error when the service
// cannot tell (unreachable, failing).
type Targets interface {
	RequestVisible(ctx context.Context, token, id string) error
	FicheExists(ctx context.Context, code string) error
}

// ErrTargetNotFound is a Targets answer: no such request visible to the
// caller, or no such fiche.
var ErrTargetNotFound = errors.New("follow target not found")

// Why a follow is refused.
var (
	ErrRequestNotVisible      = errors.New("no request with this id is visible to the caller")
	ErrFicheNotFound          = errors.New("no fiche with this code ROME in the referential")
	ErrIntakeUnavailable      = errors.New("the intake cannot tell whether the caller may see the request")
	ErrReferentialUnavailable = errors.New("the referential cannot tell whether the fiche exists")
)

// Follow makes sub follow a request or a fiche (exactly one of f's), once the
// service that knows has said that sub may: the intake, asked with sub's own
// token, for a request (else ErrRequestNotVisible), the referential for a
// fiche (else ErrFicheNotFound). When it cannot tell, the follow is refused
// too (ErrIntakeUnavailable, ErrReferentialUnavailable), never recorded
// unchecked. Following again changes nothing: created is false.
func (s *Service) Follow(ctx context.Context, sub, token string, f notifclient.Follow) (out notifclient.Follow, created bool, err error) {
	if err := s.checkTarget(ctx, token, f); err != nil {
		return notifclient.Follow{}, false, err
	}
	kind, target := followTarget(f)
	row, created, err := s.store.AddFollow(ctx, store.Follow{Sub: sub, Kind: kind, Target: target, CreatedAt: s.now()})
	if err != nil {
		return notifclient.Follow{}, false, err
	}
	return followOf(row), created, nil
}

func (s *Service) checkTarget(ctx context.Context, token string, f notifclient.Follow) error {
	if f.RequestID != "" {
		return s.targetAnswer(ctx, s.targets.RequestVisible(ctx, token, f.RequestID), ErrRequestNotVisible, ErrIntakeUnavailable)
	}
	return s.targetAnswer(ctx, s.targets.FicheExists(ctx, f.CodeRome), ErrFicheNotFound, ErrReferentialUnavailable)
}

// targetAnswer is the refusal a Targets answer makes, if any.
func (s *Service) targetAnswer(ctx context.Context, err, notFound, unavailable error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTargetNotFound):
		return notFound
	default:
		s.log.WarnContext(ctx, "follow: cannot check the target", "error", err)
		return fmt.Errorf("%w: %w", unavailable, err)
	}
}

// Unfollow stops a follow, checking nothing: one may stop following what one
// no longer sees. An absent follow is ErrNotFound.
func (s *Service) Unfollow(ctx context.Context, sub string, f notifclient.Follow) error {
	kind, target := followTarget(f)
	return s.store.RemoveFollow(ctx, sub, kind, target)
}

// Follows lists what sub follows, oldest first.
func (s *Service) Follows(ctx context.Context, sub string) ([]notifclient.Follow, error) {
	rows, err := s.store.Follows(ctx, sub)
	if err != nil {
		return nil, err
	}
	out := make([]notifclient.Follow, len(rows))
	for i, r := range rows {
		out[i] = followOf(r)
	}
	return out, nil
}

// FollowerCounts counts the people who follow each fiche of codes, in their
// order: the known users, those the fiche's notifications reach.
func (s *Service) FollowerCounts(ctx context.Context, codes []string) ([]notifclient.FollowerCount, error) {
	counts, err := s.store.FollowerCounts(ctx, codes)
	if err != nil {
		return nil, err
	}
	out := make([]notifclient.FollowerCount, len(codes))
	for i, code := range codes {
		out[i] = notifclient.FollowerCount{CodeRome: code, Followers: counts[code]}
	}
	return out, nil
}

func followTarget(f notifclient.Follow) (kind, target string) {
	if f.RequestID != "" {
		return store.FollowRequest, f.RequestID
	}
	return store.FollowFiche, f.CodeRome
}

func followOf(f store.Follow) notifclient.Follow {
	at := f.CreatedAt
	out := notifclient.Follow{CreatedAt: &at}
	if f.Kind == store.FollowRequest {
		out.RequestID = f.Target
	} else {
		out.CodeRome = f.Target
	}
	return out
}
