package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/workflows/request"
)

// ErrBadCursor: the cursor was not issued by List.
var ErrBadCursor = errors.New("invalid cursor")

// Filter selects requests for a listing. Empty fields do not filter.
type Filter struct {
	// VisibleTo restricts the listing to one organisation's requests (a partner's).
	VisibleTo string
	Status    request.Status
	Kind      request.Kind
	CodeRome  string
	Org       string
	Assignee  string
	// Text: every word must appear in the title or justification (case and accents ignored).
	Text string
	// Waits, when not empty, keeps only the requests that have been waiting in one of
	// these statuses since before its time (the overdue requests).
	Waits  []Wait
	Limit  int
	Cursor string // from a previous Page
}

// Wait selects the requests that entered Status before Since and are still in it.
type Wait struct {
	Status request.Status
	Since  time.Time
}

// Page is one page of a listing, newest first.
type Page struct {
	Items      []json.RawMessage // request.Request documents
	NextCursor string            // empty on the last page
	Total      int64             // the requests matching the filter, on every page
}

// List returns the requests matching f, newest first, f.Limit at most, and how many match
// in all.
func (s *Store) List(ctx context.Context, f Filter) (Page, error) {
	var before int64
	if f.Cursor != "" {
		var err error
		if before, err = decodeCursor(f.Cursor); err != nil {
			return Page{}, err
		}
	}
	var total int64
	if err := where(s.db.WithContext(ctx).Table("requests"), f).Count(&total).Error; err != nil {
		return Page{}, err
	}
	q := where(s.db.WithContext(ctx).Table("requests").Select("pos, state"), f)
	if before > 0 {
		q = q.Where("pos < ?", before)
	}
	var rows []struct {
		Pos   int64
		State string
	}
	if err := q.Order("pos DESC").Limit(f.Limit + 1).Scan(&rows).Error; err != nil {
		return Page{}, err
	}
	p := Page{Items: make([]json.RawMessage, 0, min(len(rows), f.Limit)), Total: total}
	for i, r := range rows {
		if i == f.Limit {
			p.NextCursor = encodeCursor(rows[i-1].Pos)
			break
		}
		p.Items = append(p.Items, json.RawMessage(r.State))
	}
	return p, nil
}

// where adds f's conditions (all but the cursor) to q.
func where(q *gorm.DB, f Filter) *gorm.DB {
	for _, eq := range [][2]string{
		{"org", f.VisibleTo}, {"org", f.Org}, {"status", string(f.Status)}, {"kind", string(f.Kind)},
		{"code_rome", f.CodeRome}, {"assignee", f.Assignee},
	} {
		if eq[1] != "" {
			q = q.Where(eq[0]+" = ?", eq[1])
		}
	}
	for _, w := range strings.Fields(request.Fold(f.Text)) {
		q = q.Where("search_text LIKE ?", "%"+w+"%") // folded words hold letters and digits only
	}
	if len(f.Waits) > 0 {
		cond, args := waiting(f.Waits)
		q = q.Where(cond, args...)
	}
	return q
}

// waiting is the condition on requests that have waited longer than waits allow.
func waiting(waits []Wait) (string, []any) {
	conds := make([]string, len(waits))
	args := make([]any, 0, 2*len(waits))
	for i, w := range waits {
		conds[i] = "(status = ? AND status_since < ?)"
		args = append(args, string(w.Status), w.Since.UTC())
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// A cursor is the position of the last request of the previous page.
func encodeCursor(pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p" + strconv.FormatInt(pos, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'p' {
		return 0, ErrBadCursor
	}
	pos, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || pos <= 0 {
		return 0, ErrBadCursor
	}
	return pos, nil
}

// EncodeCursor is the opaque nextCursor of a listing that ends on position c (a plain
// struct: it always encodes).
func EncodeCursor(c any) string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// DecodeCursor reads a nextCursor EncodeCursor made into c; false when s is not one.
func DecodeCursor(s string, c any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && json.Unmarshal(raw, c) == nil
}
