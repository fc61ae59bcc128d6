package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/delta"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// FeedItem is one change of the change feed: the fiche, the element and its before and
// after (in Change), the change set and the request that made it.
type FeedItem struct {
	Version     int              `json:"version"`
	Seq         int              `json:"seq"`
	PublishedAt time.Time        `json:"publishedAt"`
	CodeRome    string           `json:"codeRome"`
	ChangesetID string           `json:"changesetId"`
	RequestID   string           `json:"requestId,omitempty"`
	Change      changeset.Change `json:"change"`
}

// FeedPage is a page of a list that follows the versions (the change feed, the
// correspondences); Next is nil on the last page.
type FeedPage[T any] struct {
	Items []T
	Next  *store.FeedPosition
}

// feedPageOf makes a page of at most limit items from entries read with one more than
// asked, which tells whether another page follows without a count.
func feedPageOf[E interface{ Position() store.FeedPosition }, T any](es []E, limit int, item func(E) (T, error)) (*FeedPage[T], error) {
	page := &FeedPage[T]{Items: make([]T, 0, min(len(es), limit))}
	for i, e := range es {
		if i == limit {
			last := es[limit-1].Position()
			page.Next = &last
			break
		}
		it, err := item(e)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, it)
	}
	return page, nil
}

// Changes reads the changes of the versions after since, up to st's version, from the
// position after (nil: the first), limit at most.
func (s *Service) Changes(ctx context.Context, st *State, since int, after *store.FeedPosition, limit int) (*FeedPage[FeedItem], error) {
	es, err := s.store.Changes(ctx, since, st.Version(), after, limit+1)
	if err != nil {
		return nil, err
	}
	return feedPageOf(es, limit, func(e store.FeedEntry) (FeedItem, error) {
		it := FeedItem{Version: e.Version, Seq: e.Seq, PublishedAt: e.PublishedAt, CodeRome: e.CodeRome, ChangesetID: e.ChangesetID, RequestID: e.RequestID}
		return it, json.Unmarshal([]byte(e.Entry), &it.Change)
	})
}

// FeedVersion is a version with its changes, as the Atom feed shows it.
type FeedVersion struct {
	store.VersionRecord
	Changes []HistoryEntry
}

// RecentVersions returns the last n versions up to st's, newest first, with their changes.
func (s *Service) RecentVersions(ctx context.Context, st *State, n int) ([]FeedVersion, error) {
	vs, err := s.store.Versions(ctx)
	if err != nil {
		return nil, err
	}
	var out []FeedVersion
	for i := len(vs) - 1; i >= 0 && len(out) < n; i-- {
		if vs[i].Number > st.Version() {
			continue
		}
		es, err := s.store.VersionEntries(ctx, vs[i].Number)
		if err != nil {
			return nil, err
		}
		changes, err := decodeEntries(es)
		if err != nil {
			return nil, err
		}
		out = append(out, FeedVersion{VersionRecord: vs[i], Changes: changes})
	}
	return out, nil
}

// DeltaFile is the delta of one version, ready to be written (see package delta).
type DeltaFile struct {
	store    *store.Store
	manifest delta.Manifest
}

// DeltaFile finds the delta of version n; ok is false for a version that does not exist.
func (s *Service) DeltaFile(ctx context.Context, n int) (*DeltaFile, bool, error) {
	vs, err := s.store.Versions(ctx)
	if err != nil {
		return nil, false, err
	}
	from := 0 // the first version's delta starts from the empty referential
	for _, v := range vs {
		if v.Number == n {
			cs, err := s.store.VersionCorrespondences(ctx, n)
			if err != nil {
				return nil, false, err
			}
			m := delta.Manifest{FromVersion: from, ToVersion: n, Label: v.Label, Source: v.Source,
				ChangesetID: v.ChangesetID, RequestID: v.RequestID, PublishedAt: v.PublishedAt}
			for _, c := range cs {
				m.Correspondences = append(m.Correspondences, correspondenceOf(c, v.PublishedAt))
			}
			return &DeltaFile{store: s.store, manifest: m}, true, nil
		}
		from = v.Number
	}
	return nil, false, nil
}

// ETag identifies the delta without building it: a version never changes once published,
// and its publication time tells a version apart from one of another database.
func (d *DeltaFile) ETag() string {
	return fmt.Sprintf(`"rome-delta-v%d-%d"`, d.manifest.ToVersion, d.manifest.PublishedAt.UnixMilli())
}

// Write writes the delta zip to w.
func (d *DeltaFile) Write(ctx context.Context, w io.Writer) error {
	dw := delta.NewWriter(w, d.manifest)
	if err := d.store.EachVersionRow(ctx, d.manifest.ToVersion, dw.Row); err != nil {
		return err
	}
	return dw.Close()
}
