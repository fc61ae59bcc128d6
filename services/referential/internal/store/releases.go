package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/database"
)

// migrationReleases creates the release trains: the releases and the change sets staged in
// them, and the release a version published. At most one release is open and one frozen:
// the partial unique index makes two replicas that open the next release at once collide,
// and the second one reads the first one's.
func migrationReleases(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	return database.ExecAll(tx,
		`CREATE TABLE ref_releases (
			number INTEGER PRIMARY KEY,
			status TEXT NOT NULL,
			opened_at `+ts+` NOT NULL,
			frozen_at `+ts+`,
			published_at `+ts+`,
			version INTEGER REFERENCES ref_versions(number),
			notes TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE UNIQUE INDEX ref_releases_unpublished ON ref_releases (status) WHERE status <> 'published'`,
		`CREATE TABLE ref_staged_changesets (
			id TEXT PRIMARY KEY,
			release_number INTEGER NOT NULL REFERENCES ref_releases(number),
			seq INTEGER NOT NULL,
			request_id TEXT NOT NULL DEFAULT '',
			request_title TEXT NOT NULL DEFAULT '',
			code_rome TEXT NOT NULL DEFAULT '',
			payload TEXT NOT NULL,
			payload_hash TEXT NOT NULL,
			response TEXT NOT NULL,
			status TEXT NOT NULL,
			staged_at `+ts+` NOT NULL,
			results TEXT NOT NULL DEFAULT '',
			UNIQUE (release_number, seq)
		)`,
		`ALTER TABLE ref_versions ADD COLUMN release_number INTEGER`)
}

// Release is a release train (statuses refclient.ReleaseOpen, ReleaseFrozen, ReleasePublished).
type Release struct {
	Number      int `gorm:"primaryKey;autoIncrement:false"`
	Status      string
	OpenedAt    time.Time
	FrozenAt    *time.Time
	PublishedAt *time.Time
	Version     *int // the version it published; nil when nothing in it applied
	Notes       string
}

func (Release) TableName() string { return "ref_releases" }

// StagedChangeSet is a change set waiting in a release (statuses refclient.StagedWaiting,
// StagedIncluded, StagedReturned).
type StagedChangeSet struct {
	ID            string `gorm:"primaryKey"`
	ReleaseNumber int
	Seq           int // its place in the release: the release applies its change sets in this order
	RequestID     string
	RequestTitle  string
	CodeRome      string // as sent; for a new fiche, its code once the release is published
	Payload       string // the change set, as JSON
	PayloadHash   string
	Response      string // the answer its staging got, for a retry
	Status        string
	StagedAt      time.Time
	Results       string // JSON of the last validation's results ("" before one)
}

func (StagedChangeSet) TableName() string { return "ref_staged_changesets" }

// Verdict is what a release's validation or publication decided for one of its change sets.
type Verdict struct {
	ID        string
	RequestID string
	Status    string
	CodeRome  string
	Results   string
}

// ReleaseOutcome is what publishing a release records about it: its notes and the verdict
// on each of its change sets.
type ReleaseOutcome struct {
	Number      int
	PublishedAt time.Time
	Notes       string
	Verdicts    []Verdict
}

var (
	// ErrNothingStaged means the open release holds no change set: there is nothing to freeze.
	ErrNothingStaged = errors.New("no change set is staged in the open release")
	// ErrReleaseMoved means the release is no longer in the status the write expected (a
	// concurrent freeze or publication): read it again.
	ErrReleaseMoved = errors.New("the release changed concurrently")
)

// stagedRevision counts the changes of the staged change sets (staged, validated,
// published): the view of the next release is rebuilt when it moves.
const stagedRevision = "staged_revision"

// racing runs fn in a transaction, again when a concurrent writer got in first: another
// replica opened the next release (the unique index refused the second one), or moved the
// release fn expected. The next attempt reads what the other one wrote.
func (s *Store) racing(ctx context.Context, fn func(tx *gorm.DB) error) error {
	for attempt := 1; ; attempt++ {
		err := s.db.WithContext(ctx).Transaction(fn)
		if attempt == 3 || err == nil || !(database.IsUniqueViolation(err) || errors.Is(err, ErrReleaseMoved)) {
			return err
		}
	}
}

// openRelease returns the number of the open release, opening the next one when there is
// none (release 1 on first use).
func openRelease(tx *gorm.DB, now time.Time) (int, error) {
	r, found, err := takeOne[Release](tx.Where("status = ?", refclient.ReleaseOpen))
	if err != nil || found {
		return r.Number, err
	}
	var last sql.NullInt64
	if err := tx.Raw(`SELECT MAX(number) FROM ref_releases`).Scan(&last).Error; err != nil {
		return 0, err
	}
	r = Release{Number: int(last.Int64) + 1, Status: refclient.ReleaseOpen, OpenedAt: now.UTC()}
	return r.Number, tx.Create(&r).Error
}

// OpenRelease returns the number of the open release, opening it if there is none.
func (s *Store) OpenRelease(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.racing(ctx, func(tx *gorm.DB) (err error) {
		n, err = openRelease(tx, now)
		return err
	})
	return n, err
}

// holdRelease locks release n while it is in status, or answers ErrReleaseMoved: on
// PostgreSQL the row lock makes a concurrent freeze or publication wait for this
// transaction (and re-check the status after it); SQLite runs one writer at a time.
func holdRelease(tx *gorm.DB, n int, status string) error {
	res := tx.Exec(`UPDATE ref_releases SET status = status WHERE number = ? AND status = ?`, n, status)
	if res.Error == nil && res.RowsAffected != 1 {
		return ErrReleaseMoved
	}
	return res.Error
}

// Stage records cs at the end of release cs.ReleaseNumber, which must still be open
// (ErrReleaseMoved otherwise: stage it in the release open now).
func (s *Store) Stage(ctx context.Context, cs StagedChangeSet) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := holdRelease(tx, cs.ReleaseNumber, refclient.ReleaseOpen); err != nil {
			return err
		}
		var last sql.NullInt64
		if err := tx.Raw(`SELECT MAX(seq) FROM ref_staged_changesets WHERE release_number = ?`, cs.ReleaseNumber).Scan(&last).Error; err != nil {
			return err
		}
		cs.Seq = int(last.Int64) + 1
		if err := tx.Create(&cs).Error; err != nil {
			return err
		}
		return bumpCounter(tx, stagedRevision)
	})
}

// FreezeRelease freezes the open release and opens the next one; a release already
// frozen is returned as it is. ErrNothingStaged when the open release is empty.
func (s *Store) FreezeRelease(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.racing(ctx, func(tx *gorm.DB) error {
		frozen, found, err := takeOne[Release](tx.Where("status = ?", refclient.ReleaseFrozen))
		if err != nil || found {
			n = frozen.Number
			return err
		}
		if n, err = openRelease(tx, now); err != nil {
			return err
		}
		res := tx.Exec(`UPDATE ref_releases SET status = ?, frozen_at = ? WHERE number = ? AND status = ?`,
			refclient.ReleaseFrozen, now.UTC(), n, refclient.ReleaseOpen)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrReleaseMoved
		}
		var staged int64
		if err := tx.Model(&StagedChangeSet{}).Where("release_number = ?", n).Count(&staged).Error; err != nil {
			return err
		}
		if staged == 0 {
			return ErrNothingStaged
		}
		_, err = openRelease(tx, now)
		return err
	})
	return n, err
}

// Release reads release n.
func (s *Store) Release(ctx context.Context, n int) (Release, bool, error) {
	return takeOne[Release](s.db.WithContext(ctx).Where("number = ?", n))
}

// Releases lists the releases, newest first: the published ones only, or all of them.
func (s *Store) Releases(ctx context.Context, publishedOnly bool) ([]Release, error) {
	q := s.db.WithContext(ctx).Order("number DESC")
	if publishedOnly {
		q = q.Where("status = ?", refclient.ReleasePublished)
	}
	var rs []Release
	return rs, q.Find(&rs).Error
}

// ReleaseChangeSets lists the change sets staged in the given releases, in release then
// staged order.
func (s *Store) ReleaseChangeSets(ctx context.Context, releases []int) ([]StagedChangeSet, error) {
	var out []StagedChangeSet
	if len(releases) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Where("release_number IN ?", releases).Order("release_number, seq").Find(&out).Error
	return out, err
}

// StagedChangeSet reads a staged change set by id.
func (s *Store) StagedChangeSet(ctx context.Context, id string) (StagedChangeSet, bool, error) {
	return takeOne[StagedChangeSet](s.db.WithContext(ctx).Where("id = ?", id))
}

// pendingChangeSets selects the change sets that the next releases may still publish:
// those of the releases not published yet that were not returned.
func (s *Store) pendingChangeSets(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Model(&StagedChangeSet{}).
		Joins("JOIN ref_releases r ON r.number = ref_staged_changesets.release_number").
		Where("r.status <> ? AND ref_staged_changesets.status <> ?", refclient.ReleasePublished, refclient.StagedReturned)
}

// PendingChangeSets lists the change sets the next releases may still publish, in release
// then staged order.
func (s *Store) PendingChangeSets(ctx context.Context) ([]StagedChangeSet, error) {
	var out []StagedChangeSet
	err := s.pendingChangeSets(ctx).Order("ref_staged_changesets.release_number, ref_staged_changesets.seq").Find(&out).Error
	return out, err
}

// CountPendingChangeSets counts them.
func (s *Store) CountPendingChangeSets(ctx context.Context) (int64, error) {
	var n int64
	return n, s.pendingChangeSets(ctx).Count(&n).Error
}

// StagedRevision moves whenever a change set is staged, validated or published.
func (s *Store) StagedRevision(ctx context.Context) (int64, error) {
	return s.Counter(ctx, stagedRevision)
}

// RecordVerdicts stores the validation of release n, which must still be frozen
// (ErrReleaseMoved otherwise).
func (s *Store) RecordVerdicts(ctx context.Context, n int, verdicts []Verdict) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := holdRelease(tx, n, refclient.ReleaseFrozen); err != nil {
			return err
		}
		return saveVerdicts(tx, verdicts)
	})
}

func saveVerdicts(tx *gorm.DB, verdicts []Verdict) error {
	for _, v := range verdicts {
		if err := tx.Model(&StagedChangeSet{}).Where("id = ?", v.ID).
			Updates(map[string]any{"status": v.Status, "code_rome": v.CodeRome, "results": v.Results}).Error; err != nil {
			return err
		}
	}
	return bumpCounter(tx, stagedRevision)
}

// closeRelease marks frozen release r published, as version (nil: it published none),
// with the verdicts on its change sets.
func closeRelease(tx *gorm.DB, r ReleaseOutcome, version *int) error {
	res := tx.Exec(`UPDATE ref_releases SET status = ?, published_at = ?, version = ?, notes = ? WHERE number = ? AND status = ?`,
		refclient.ReleasePublished, r.PublishedAt.UTC(), version, r.Notes, r.Number, refclient.ReleaseFrozen)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrReleaseMoved
	}
	return saveVerdicts(tx, r.Verdicts)
}

// CloseRelease records the publication of a release in which nothing applied: no version.
func (s *Store) CloseRelease(ctx context.Context, r ReleaseOutcome) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return closeRelease(tx, r, nil) })
}

func bumpCounter(tx *gorm.DB, name string) error {
	res := tx.Exec(`UPDATE ref_counters SET value = value + 1 WHERE name = ?`, name)
	if res.Error != nil || res.RowsAffected == 1 {
		return res.Error
	}
	return tx.Exec(`INSERT INTO ref_counters (name, value) VALUES (?, 1)`, name).Error
}
