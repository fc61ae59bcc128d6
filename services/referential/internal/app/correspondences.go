package app

import (
	"context"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/delta"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// Correspondence is an appellation removed with a replacement, as the correspondence list
// and the delta's manifest publish it.
type Correspondence = delta.Correspondence

func correspondenceOf(c store.Correspondence, at time.Time) Correspondence {
	return Correspondence{Version: c.Version, PublishedAt: at, CodeOgr: c.CodeOgr, Libelle: c.Libelle, CodeRome: c.CodeRome,
		ReplacedBy:  delta.Appellation{CodeOgr: c.ReplacedBy, Libelle: c.ReplacedByLibelle, CodeRome: c.ReplacedByCodeRome},
		ChangesetID: c.ChangesetID, RequestID: c.RequestID}
}

// correspondences picks the removals with a replacement out of a version's changelog
// entries; after is the version, where the replacement is read as it ends up.
func correspondences(entries []store.ChangeEntry, changes []changeset.Change, after refdata.View) []store.Correspondence {
	var out []store.Correspondence
	a := romecsv.MustByName(romecsv.Appellation)
	for i, c := range changes {
		by := replacedBy(c)
		if by == "" {
			continue
		}
		r, _ := after.Get(romecsv.Appellation, by) // the engine checked that it exists
		e := entries[i]
		out = append(out, store.Correspondence{Version: e.Version, Seq: e.Seq, CodeOgr: c.CodeOgr, Libelle: c.Libelle, CodeRome: c.CodeRome,
			ReplacedBy: by, ReplacedByLibelle: r[a.Col("libelle_appellation_long")], ReplacedByCodeRome: r[a.Col("code_rome")],
			ChangesetID: e.ChangesetID, RequestID: e.RequestID})
	}
	return out
}

// replacedBy is the replacement a removal of an appellation names, if any.
func replacedBy(c changeset.Change) string {
	if c.Action != "removed" || c.Entity != "appellation" {
		return ""
	}
	after, _ := c.After.(map[string]string)
	return after["replacedBy"]
}

// Correspondences reads the correspondences of the versions after since, up to st's
// version, from the position after (nil: the first), limit at most.
func (s *Service) Correspondences(ctx context.Context, st *State, since int, after *store.FeedPosition, limit int) (*FeedPage[Correspondence], error) {
	es, err := s.store.Correspondences(ctx, since, st.Version(), after, limit+1)
	if err != nil {
		return nil, err
	}
	return feedPageOf(es, limit, func(e store.CorrespondenceEntry) (Correspondence, error) {
		return correspondenceOf(e.Correspondence, e.PublishedAt), nil
	})
}
