package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// QueueDigests turns, on every channel, each user's waiting digest items into
// one digest delivery (an e-mail, which DeliverEmails sends like any other,
// or a Teams notification, which the worker claims), and returns how many it
// queued. Concurrent callers cannot queue an item twice.
func (s *Service) QueueDigests(ctx context.Context) (int, error) {
	queued := 0
	for _, channel := range store.Channels {
		subs, err := s.store.DigestUsers(ctx, channel)
		if err != nil {
			return queued, err
		}
		for _, sub := range subs {
			ok, err := s.queueDigest(ctx, channel, sub)
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

// queueDigest queues sub's digest on channel. It reports false when there is
// nothing to send, or nowhere to send it (no address, no Entra id: the items
// wait for one), or when another scheduler took the items first.
func (s *Service) queueDigest(ctx context.Context, channel, sub string) (bool, error) {
	items, err := s.store.WaitingDigestItems(ctx, channel, sub)
	if err != nil || len(items) == 0 {
		return false, err
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
