package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Roles held through the identity provider's groups, strongest last.
var groupRoles = []string{"moderator", "admin"}

// SourceEntraSync: the person came from a synchronised Entra group.
const SourceEntraSync = "entra_sync"

// SyncedSubPrefix starts the provisional subject of a person synchronised from a group,
// bound to their token's subject at their first sign-in (like an approved applicant's).
const SyncedSubPrefix = "entra-"

// GroupMember is a member of a synchronised group.
type GroupMember struct {
	EntraID, Name, Email string
}

// GroupSync is what one read of a group's members said: the members who joined (all of
// them when Full), and the Entra ids of those who left.
type GroupSync struct {
	Role    string
	Members []GroupMember
	Removed []string
	Full    bool
	At      time.Time
}

// SyncReport counts what a GroupSync changed in the directory.
type SyncReport struct {
	Added, Updated, Deactivated int
}

type groupMemberRow struct {
	Role    string `gorm:"primaryKey"`
	EntraID string `gorm:"primaryKey"`
}

func (groupMemberRow) TableName() string { return "group_members" }

// SyncGroup applies a read of a group, in one transaction: the group's members, then each
// person it concerns. A member of a group gets its role (admin over moderator), as a new
// active person under a provisional subject when the directory lacks them, or reactivated
// with that role; a person synchronised from the groups who is in none is deactivated
// (people entered otherwise keep what an admin gave them). Applying the same read again
// changes nothing.
func (s *Store) SyncGroup(ctx context.Context, g GroupSync) (SyncReport, error) {
	var report SyncReport
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		concerned := slices.Clone(g.Removed)
		if g.Full {
			var before []string
			if err := tx.Model(&groupMemberRow{}).Where("role = ?", g.Role).Pluck("entra_id", &before).Error; err != nil {
				return err
			}
			concerned = append(concerned, before...)
			if err := tx.Where("role = ?", g.Role).Delete(&groupMemberRow{}).Error; err != nil {
				return err
			}
		} else if len(g.Removed) > 0 {
			if err := tx.Where("role = ? AND entra_id IN ?", g.Role, g.Removed).Delete(&groupMemberRow{}).Error; err != nil {
				return err
			}
		}
		for _, m := range g.Members {
			concerned = append(concerned, m.EntraID)
			if err := tx.Exec(`INSERT INTO group_members (role, entra_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, g.Role, m.EntraID).Error; err != nil {
				return err
			}
		}
		slices.Sort(concerned)
		for _, id := range slices.Compact(concerned) {
			i := slices.IndexFunc(g.Members, func(m GroupMember) bool { return m.EntraID == id })
			member := GroupMember{EntraID: id}
			if i >= 0 {
				member = g.Members[i]
			}
			if err := syncPerson(tx, member, g.At, &report); err != nil {
				return err
			}
		}
		return nil
	})
	return report, err
}

// syncPerson gives the person with m's Entra id the role of the groups they are in.
func syncPerson(tx *gorm.DB, m GroupMember, at time.Time, report *SyncReport) error {
	var roles []string
	if err := tx.Model(&groupMemberRow{}).Where("entra_id = ?", m.EntraID).Pluck("role", &roles).Error; err != nil {
		return err
	}
	role := ""
	for _, r := range groupRoles {
		if slices.Contains(roles, r) {
			role = r
		}
	}
	var p personRow
	err := tx.Where("entra_id = ?", m.EntraID).Take(&p).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) && role != "":
		report.Added++
		return tx.Create(&personRow{Sub: SyncedSubPrefix + m.EntraID, EntraID: m.EntraID, Name: m.Name, Email: m.Email, Role: role,
			Active: true, Source: SourceEntraSync, Domains: []string{}, CreatedAt: at, UpdatedAt: at}).Error
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil
	case err != nil:
		return err
	}
	changes := map[string]any{}
	switch {
	case role == "":
		if p.Source == SourceEntraSync && p.Active {
			changes["active"] = false
			report.Deactivated++
		}
	default:
		if p.Role != role || !p.Active {
			changes["role"], changes["active"] = role, true
		}
		if p.Source == SourceEntraSync && m.Name != "" && m.Name != p.Name {
			changes["name"] = m.Name
		}
		if p.Source == SourceEntraSync && m.Email != "" && m.Email != p.Email {
			changes["email"] = m.Email
		}
		if len(changes) > 0 {
			report.Updated++
		}
	}
	if len(changes) == 0 {
		return nil
	}
	changes["updated_at"] = at
	return tx.Model(&personRow{}).Where("sub = ?", p.Sub).Updates(changes).Error
}
