package request

import (
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
)

// The names are a contract with ops (saved Temporal UI queries) and with the deploy scripts:
// renaming one silently orphans the values already indexed under the old name.
func TestSearchAttributesAreTheDocumentedKeywords(t *testing.T) {
	want := []string{"RomeCode", "RequestKind", "RequestStatus", "PartnerOrg", "AssignedModerator"}
	if len(SearchAttributes) != len(want) {
		t.Fatalf("SearchAttributes has %d keys, want %d (%v)", len(SearchAttributes), len(want), want)
	}
	seen := map[string]bool{}
	for i, key := range SearchAttributes {
		if key.GetName() != want[i] {
			t.Errorf("SearchAttributes[%d] = %q, want %q", i, key.GetName(), want[i])
		}
		if seen[key.GetName()] {
			t.Errorf("search attribute %q is listed twice", key.GetName())
		}
		seen[key.GetName()] = true
		if key.GetValueType() != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("search attribute %q has type %v, want Keyword", key.GetName(), key.GetValueType())
		}
	}
}
