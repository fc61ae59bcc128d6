package request

import (
	"slices"
	"testing"
)

func ids(ops []Operation) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.ID
	}
	return out
}

func TestAssignOperationIDs(t *testing.T) {
	// The author's ids stay, the others take the next op-N that nobody holds.
	ops := []Operation{{}, {ID: "op-2"}, {}, {ID: "mine"}, {}}
	next := AssignOperationIDs(ops, 1)
	if want := []string{"op-1", "op-2", "op-3", "mine", "op-4"}; !slices.Equal(ids(ops), want) {
		t.Errorf("ids %q, want %q", ids(ops), want)
	}
	if next != 5 {
		t.Errorf("next = %d, want 5", next)
	}
	// An amendment goes on from the request's counter.
	more := []Operation{{}, {ID: "op-7"}, {}}
	next = AssignOperationIDs(more, next)
	if want := []string{"op-5", "op-7", "op-6"}; !slices.Equal(ids(more), want) || next != 7 {
		t.Errorf("ids %q next %d, want %q next 7", ids(more), next, want)
	}
}

func TestNextOperationNumber(t *testing.T) {
	ops := []RequestOperation{{Operation: Operation{ID: "op-3"}}, {Operation: Operation{ID: "op-x"}}, {Operation: Operation{ID: "custom-9"}}}
	if n := NextOperationNumber(ops); n != 4 {
		t.Errorf("next = %d, want 4", n)
	}
	if n := NextOperationNumber(nil); n != 1 {
		t.Errorf("next of none = %d, want 1", n)
	}
}

func TestPublishedOperations(t *testing.T) {
	amendment := Operation{Op: "add_mobilite", ToCodeRome: "M1403"}
	r := Request{Operations: []RequestOperation{
		{Operation: Operation{ID: "op-1", Op: "add_appellation"}},
		{Operation: Operation{ID: "op-2", Op: "remove_appellation"}, Decision: &Decision{Decision: DecisionRejected}},
		{Operation: Operation{ID: "op-3", Op: "add_mobilite", ToCodeRome: "M1402"}, Decision: &Decision{Decision: DecisionAmended, Amendment: &amendment}},
		{Operation: Operation{ID: "op-4", Op: "set_tags"}, Decision: &Decision{Decision: DecisionAccepted}},
	}}
	got := r.PublishedOperations()
	if want := []string{"op-1", "op-3", "op-4"}; !slices.Equal(ids(got), want) {
		t.Fatalf("published %q, want %q", ids(got), want)
	}
	if got[1].ToCodeRome != "M1403" {
		t.Errorf("the amended operation publishes %+v, want its amendment", got[1])
	}
	rejected := Request{Operations: r.Operations[1:2]}
	if got := rejected.PublishedOperations(); got == nil || len(got) != 0 {
		t.Errorf("every operation rejected: %v, want an empty list", got)
	}
}
