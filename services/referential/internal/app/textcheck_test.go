package app

import (
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

// In the official v460, three values break the text rule (C1 characters, mojibake of
// Windows-1252): the check finds those, and only those.
func TestTextViolationsOfV460(t *testing.T) {
	t.Parallel()
	found := TextViolations(newState(romedata.V460(t)))
	if len(found) != 3 {
		t.Fatalf("%d violations, want the 3 official C1 characters: %+v", len(found), found)
	}
	for _, v := range found {
		if v.Problem.Message == "" || v.Key == "" || v.Column == "" {
			t.Errorf("violation without its place or reason: %+v", v)
		}
		t.Logf("%s %s %s: %s", v.Dataset, v.Key, v.Column, v.Problem.Message)
	}
}
