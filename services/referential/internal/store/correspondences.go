package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
)

// migrationCorrespondences creates the correspondence list: every appellation removed
// with a replacement, as the version that removed it published it. Consumers recode what
// carried the old code; the impact of a removal finds the appellations replaced by the one
// it removes (hence the index on replaced_by).
func migrationCorrespondences(tx *gorm.DB, _ database.Dialect) error {
	return database.ExecAll(tx,
		`CREATE TABLE ref_correspondences (
			version INTEGER NOT NULL REFERENCES ref_versions(number),
			seq INTEGER NOT NULL,
			code_ogr TEXT NOT NULL,
			libelle TEXT NOT NULL,
			code_rome TEXT NOT NULL,
			replaced_by TEXT NOT NULL,
			replaced_by_libelle TEXT NOT NULL,
			replaced_by_code_rome TEXT NOT NULL,
			changeset_id TEXT NOT NULL,
			request_id TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (version, seq)
		)`,
		`CREATE INDEX ref_correspondences_replaced_by ON ref_correspondences (replaced_by)`)
}

// Correspondence is an appellation removed by a version and the appellation that replaces
// it, both as they were in that version. Seq is the changelog entry of the removal.
type Correspondence struct {
	Version            int
	Seq                int
	CodeOgr            string
	Libelle            string
	CodeRome           string
	ReplacedBy         string
	ReplacedByLibelle  string
	ReplacedByCodeRome string
	ChangesetID        string
	RequestID          string
}

func (Correspondence) TableName() string { return "ref_correspondences" }

// Position is where the correspondence stands in the list: its removal's changelog entry.
func (c Correspondence) Position() FeedPosition { return FeedPosition{Version: c.Version, Seq: c.Seq} }

// CorrespondenceEntry is a correspondence with the date of its version.
type CorrespondenceEntry struct {
	Correspondence
	PublishedAt time.Time
}

// Correspondences lists at most limit correspondences of the versions in (since, upto],
// after the position after (nil: from the start), in the order they were published.
func (s *Store) Correspondences(ctx context.Context, since, upto int, after *FeedPosition, limit int) ([]CorrespondenceEntry, error) {
	var out []CorrespondenceEntry
	err := feedPage(s.db.WithContext(ctx).Table("ref_correspondences AS c").Select("c.*, v.published_at"), since, upto, after, limit).
		Scan(&out).Error
	return out, err
}

// VersionCorrespondences lists the correspondences version n published.
func (s *Store) VersionCorrespondences(ctx context.Context, n int) ([]Correspondence, error) {
	var out []Correspondence
	err := s.db.WithContext(ctx).Where("version = ?", n).Order("seq").Find(&out).Error
	return out, err
}

// CorrespondencesTo lists the correspondences of versions up to upto whose replacement
// is one of codes.
func (s *Store) CorrespondencesTo(ctx context.Context, codes []string, upto int) ([]Correspondence, error) {
	var out []Correspondence
	if len(codes) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Where("replaced_by IN ? AND version <= ?", codes, upto).Order("version, seq").Find(&out).Error
	return out, err
}
