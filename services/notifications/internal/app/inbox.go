package app

import (
	"context"
	"strconv"

	"github.com/plateforme-rome/rome/clients/notifclient"
)

// Inbox returns a page of sub's notifications, newest first, limit at most,
// older than cursor (the previous page's NextCursor; 0: from the newest), and
// the number of unread ones.
func (s *Service) Inbox(ctx context.Context, sub string, limit int, cursor int64) (notifclient.Inbox, error) {
	entries, more, err := s.store.Inbox(ctx, sub, limit, cursor)
	if err != nil {
		return notifclient.Inbox{}, err
	}
	out := notifclient.Inbox{Items: make([]notifclient.InboxItem, len(entries))}
	if out.UnreadCount, err = s.store.UnreadCount(ctx, sub); err != nil {
		return notifclient.Inbox{}, err
	}
	for i, e := range entries {
		out.Items[i] = notifclient.InboxItem{
			ID: e.ID, Event: notifclient.Event(e.Event), RequestID: e.RequestID, CodeRome: e.CodeRome, Title: e.Title,
			Text: e.Text, Link: e.Link, Actor: e.Actor, CreatedAt: e.CreatedAt.UTC(), Read: e.ReadAt != nil, ReadAt: e.ReadAt,
		}
	}
	if more {
		out.NextCursor = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	return out, nil
}

// MarkRead marks a notification of sub's inbox read (again: no change). A
// notification not in sub's inbox is ErrNotFound.
func (s *Service) MarkRead(ctx context.Context, sub, id string) error {
	return s.store.MarkRead(ctx, sub, id, s.now())
}
