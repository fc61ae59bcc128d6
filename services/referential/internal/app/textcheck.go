package app

import (
	"context"

	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// TextViolation is a value of the current version that today's text rule would refuse
// if it were sent in a change set.
type TextViolation struct {
	Dataset, Key, Column string
	Problem              textrule.Problem
}

// storedTextRule is what the check asks of a stored value: the text rule's characters
// (valid UTF-8, no control character but tab and line break, no bidirectional control);
// lengths are the change sets' business, and the official files' longest values are below
// them.
var storedTextRule = textrule.Rule{Name: "value", Multiline: true, Max: 1 << 20}

// TextViolations lists the values of st that break the text rule: values published before
// the rule existed, and three official ones (mojibake of Windows-1252 C1 characters in v460).
// Nothing is rewritten: a version is what was published.
func TextViolations(st *State) []TextViolation {
	var out []TextViolation
	for _, ds := range romecsv.Datasets {
		for _, row := range st.Snap.T(ds.Name).Rows() {
			for i, v := range row.Cols {
				if _, p := textrule.Check(ds.Columns[i], v, storedTextRule); p != nil {
					out = append(out, TextViolation{Dataset: ds.Name, Key: ds.Key(row.Cols), Column: ds.Columns[i], Problem: *p})
				}
			}
		}
	}
	return out
}

// ReportStoredTexts logs the current version's values that break the text rule, one
// warning each, and how many there are.
func (s *Service) ReportStoredTexts(ctx context.Context) {
	st := s.Current()
	if st == nil {
		return
	}
	found := TextViolations(st)
	for _, v := range found {
		s.log.WarnContext(ctx, "a published value breaks the text rule; it is kept as it was published",
			"version", st.Version(), "dataset", v.Dataset, "key", v.Key, "column", v.Column, "problem", v.Problem.Message)
	}
	s.log.InfoContext(ctx, "published texts checked", "version", st.Version(), "violations", len(found))
}
