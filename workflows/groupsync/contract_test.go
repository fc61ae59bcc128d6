package groupsync

import (
	"strings"
	"testing"
)

// Graph's free text is cleaned as the directory takes it, and clean members stay as they are.
func TestCleaned(t *testing.T) {
	for _, tc := range []struct{ in, want Member }{
		{Member{"oid-1", "Mona Lefèvre", "mona@francetravail.fr"}, Member{"oid-1", "Mona Lefèvre", "mona@francetravail.fr"}},
		{Member{"oid-2", "Bad\x00name", "not an address"}, Member{"oid-2", "oid-2", ""}},
		{Member{"oid-3", "", "lea@opco.example"}, Member{"oid-3", "lea@opco.example", "lea@opco.example"}},
		{Member{"oid-4", strings.Repeat("n", 201), "x@y.fr"}, Member{"oid-4", "x@y.fr", "x@y.fr"}},
	} {
		if got := tc.in.Cleaned(); got != tc.want {
			t.Errorf("%+v cleaned to %+v, want %+v", tc.in, got, tc.want)
		}
		if again := tc.want.Cleaned(); again != tc.want {
			t.Errorf("%+v is not left as it is: %+v", tc.want, again)
		}
	}
}
