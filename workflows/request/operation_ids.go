package request

import (
	"strconv"
	"strings"
)

// Operation ids: an operation keeps the id its author gave it; the others get op-N, the
// next N not taken. The intake numbers a submission's operations from 1, the workflow goes
// on numbering an amendment's from where the request is, and the referential numbers a
// change set's that come without (its own callers' dry runs), all by this one rule.

const operationIDPrefix = "op-"

// AssignOperationIDs gives each operation without an id the next free op-N, counting from
// next, in place, and returns the N after the last one tried: the next call's start.
func AssignOperationIDs(ops []Operation, next int) int {
	used := make(map[string]bool, len(ops))
	for _, op := range ops {
		used[op.ID] = true
	}
	for i := range ops {
		for ops[i].ID == "" {
			id := operationIDPrefix + strconv.Itoa(next)
			next++
			if !used[id] {
				ops[i].ID, used[id] = id, true
			}
		}
	}
	return next
}

// NextOperationNumber is the first N after every op-N id of ops: where numbering goes on
// for a request whose counter was not recorded.
func NextOperationNumber(ops []RequestOperation) int {
	next := 1
	for _, op := range ops {
		if s, ok := strings.CutPrefix(op.ID, operationIDPrefix); ok {
			if n, err := strconv.Atoi(s); err == nil && n >= next {
				next = n + 1
			}
		}
	}
	return next
}
