package refdata_test

import (
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

func grandDomaine(code, label string) []string { return []string{code, label} }

// A change set of a release that does not apply is rolled back whole: the rows it put,
// replaced or deleted read as before, the change sets before it stay, and the net changes
// are those of the ones kept, in the order they touched the rows.
func TestRollbackToAMark(t *testing.T) {
	t.Parallel()
	const G = romecsv.GrandDomaine
	snap, err := refdata.New(refdata.Version{Number: 60}, map[string][]refdata.Row{G: {
		{Cols: grandDomaine("A", "Agriculture"), Ord: 1},
		{Cols: grandDomaine("B", "Arts"), Ord: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tx := snap.Begin()
	tx.Put(G, grandDomaine("A", "Agriculture et pêche")) // the first change set, kept
	mark := tx.Mark()
	tx.Put(G, grandDomaine("A", "Agronomie")) // the second one, rolled back: a row the first one staged
	tx.Delete(G, "B")                         // a published row
	tx.Put(G, grandDomaine("C", "Commerce"))  // a new row
	tx.RollbackTo(mark)

	if r, _ := tx.Get(G, "A"); r[1] != "Agriculture et pêche" {
		t.Errorf("A reads %q after the rollback, want the first change set's", r[1])
	}
	if _, ok := tx.Get(G, "B"); !ok {
		t.Error("B stays deleted after the rollback")
	}
	if _, ok := tx.Get(G, "C"); ok {
		t.Error("C stays inserted after the rollback")
	}
	changes := tx.Changes()
	if len(changes) != 1 || changes[0].Key != "A" || changes[0].New[1] != "Agriculture et pêche" {
		t.Fatalf("net changes %+v, want the first change set's only", changes)
	}

	// Staging goes on after a rollback as if the rolled-back change set never ran.
	tx.Put(G, grandDomaine("D", "Droit"))
	if changes := tx.Changes(); len(changes) != 2 || changes[1].Key != "D" || changes[1].Old != nil {
		t.Fatalf("net changes %+v after staging again", changes)
	}
}
