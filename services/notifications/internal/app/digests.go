package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// QueueDigests turns, on every channel, each user's digest items made before
// the digest time upTo into one digest delivery (an e-mail, which
// DeliverEmails sends like any other, or a Teams notification, which the
// worker claims), and returns how many it queued. Every replica's scheduler
// runs it for the same time: the items of a user go to one digest, queued by
// the replica that took them first, and an item made after upTo waits for the
// next digest time, even when a replica runs late. If one replica stops in
// the middle of its run, the others' runs queue the rest.
func (s *Service) QueueDigests(ctx context.Context, upTo time.Time) (int, error) {
	queued := 0
	for _, channel := range store.Channels {
		subs, err := s.store.DigestUsers(ctx, channel)
		if err != nil {
			return queued, err
		}
		for _, sub := range subs {
			ok, err := s.queueDigest(ctx, channel, sub, upTo)
			if err != nil {
				return queued, fmt.Errorf("%s digest of %s: %w", channel, sub, err)
			}
			if ok {
				queued++
			}
		}
	}
	return queued, nil
}

// queueDigest queues sub's digest of the items made before upTo on channel.
// It reports false when there is nothing to send, or nowhere to send it (no
// address, no Entra id: the items wait for one), or when another scheduler
// took the items first.
func (s *Service) queueDigest(ctx context.Context, channel, sub string, upTo time.Time) (bool, error) {
	items, err := s.store.WaitingDigestItems(ctx, channel, sub)
	if err != nil {
		return false, err
	}
	items = slices.DeleteFunc(items, func(it store.DigestItem) bool { return !it.CreatedAt.Before(upTo) })
	if len(items) == 0 {
		return false, nil
	}
	u, err := s.store.User(ctx, sub)
	if errors.Is(err, ErrNotFound) || (err == nil && destination(u, channel) == "") {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.store.QueueDigest(ctx, s.newDelivery(channel, store.KindDigest, "", u, s.now()), items)
}
