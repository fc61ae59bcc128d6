package database_test

import (
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// TestInValues: the condition selects the rows whose column is one of the values, on both
// dialects, whatever the values hold and however many they are; none selects nothing.
func TestInValues(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, d database.Dialect) {
		if err := db.Exec(`CREATE TABLE in_values (v TEXT NOT NULL)`).Error; err != nil {
			t.Fatal(err)
		}
		stored := []string{"alice", `bob "the" builder`, "zoé", "o'brien"}
		for _, v := range stored {
			if err := db.Exec(`INSERT INTO in_values (v) VALUES (?)`, v).Error; err != nil {
				t.Fatal(err)
			}
		}
		many := []string{"o'brien", `bob "the" builder`, "nobody"}
		for i := range 2000 {
			many = append(many, "x"+string(rune('a'+i%26)))
		}
		for _, c := range []struct {
			values, want []string
		}{
			{nil, nil},
			{[]string{"alice", "zoé"}, []string{"alice", "zoé"}},
			{many, []string{`bob "the" builder`, "o'brien"}},
		} {
			cond, arg := database.InValues(d, "v", c.values)
			var got []string
			if err := db.Table("in_values").Where(cond, arg).Order("v").Pluck("v", &got).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%d values: %v, want %v", len(c.values), got, c.want)
			}
		}
	})
}
