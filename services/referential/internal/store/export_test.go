package store

import "testing"

// RowCount is the number of stored rows of every version, for tests.
func RowCount(t testing.TB, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table("ref_rows").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
