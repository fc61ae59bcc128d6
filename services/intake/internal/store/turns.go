package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
)

type turnRow struct {
	RequestID  string `gorm:"primaryKey"`
	Moderator  string
	AssignedAt time.Time
}

func (turnRow) TableName() string { return "turn_assignments" }

// candidate is a moderator who may be assigned in turn, and their latest such assignment.
type candidate struct {
	Person `gorm:"embedded"`
	Last   *time.Time
}

// AssignInTurn gives request requestID to the moderator whose turn it is among the active
// moderators (in an active organisation or none, not absent at at) whose domains cover
// domain: the one assigned least recently in turn, never assigned first, then by subject.
// Asked again for the same request, it answers the moderator chosen the first time. ""
// when nobody covers the domain.
func (s *Store) AssignInTurn(ctx context.Context, requestID, domain string, at time.Time) (string, error) {
	var chosen string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// One assignment at a time across replicas: two that read the same turns would give
		// two requests to the same moderator.
		if err := database.LockTransaction(tx, "moderator turns"); err != nil {
			return err
		}
		var done turnRow
		err := tx.Where("request_id = ?", requestID).Take(&done).Error
		if err == nil {
			chosen = done.Moderator
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var candidates []candidate
		err = tx.Table("people").
			Select("people.*, moderator_turns.last_assigned_at AS last").
			Joins("LEFT JOIN organisations ON organisations.id = people.org").
			Joins("LEFT JOIN moderator_turns ON moderator_turns.sub = people.sub").
			Where("people.role = ? AND people.active AND (organisations.id IS NULL OR organisations.active)", "moderator").
			Where("people.absent_until IS NULL OR people.absent_until <= ?", at.UTC()).
			Find(&candidates).Error
		if err != nil {
			return err
		}
		candidates = slices.DeleteFunc(candidates, func(c candidate) bool { return !covers(c.Domains, domain) })
		if len(candidates) == 0 {
			return nil
		}
		next := slices.MinFunc(candidates, func(a, b candidate) int {
			switch {
			case a.Last == nil && b.Last != nil:
				return -1
			case a.Last != nil && b.Last == nil:
				return 1
			case a.Last != nil && !a.Last.Equal(*b.Last):
				return a.Last.Compare(*b.Last)
			}
			return strings.Compare(a.Sub, b.Sub)
		})
		chosen = next.Sub
		if err := tx.Create(&turnRow{RequestID: requestID, Moderator: chosen, AssignedAt: at.UTC()}).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO moderator_turns (sub, last_assigned_at) VALUES (?, ?)
			ON CONFLICT (sub) DO UPDATE SET last_assigned_at = excluded.last_assigned_at`, chosen, at.UTC()).Error
	})
	return chosen, err
}

// covers tells whether a moderator's domains (grands domaines, codes ROME) cover domain: a
// code ROME (M1805), or a domaine professionnel (M18) for a fiche being created.
func covers(domains []string, domain string) bool {
	if domain == "" {
		return false
	}
	return slices.ContainsFunc(domains, func(d string) bool {
		return d == domain || d == domain[:1] || (len(domain) == 3 && strings.HasPrefix(d, domain))
	})
}
