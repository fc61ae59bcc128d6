package directory

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

// MaxImportLines bounds a CSV import of people.
const MaxImportLines = 5000

// importColumns are the columns a CSV import may have; the first three are required.
var importColumns = []string{"sub", "name", "role", "email", "org", "entraId"}

// Import outcomes of a line.
const (
	OutcomeCreated   = "created"   // added (or, in a dry run, would be)
	OutcomeUnchanged = "unchanged" // already in the directory as given
	OutcomeRefused   = "refused"   // invalid, or contradicts the directory or another line
)

// ImportLine is what became, or would become, of one line of a CSV import.
type ImportLine struct {
	Line    int                `json:"line"`
	Sub     string             `json:"sub"`
	Outcome string             `json:"outcome"`
	Errors  []httpx.FieldError `json:"errors,omitempty"`
}

// ImportReport is the answer of an import.
type ImportReport struct {
	DryRun    bool         `json:"dryRun"`
	Created   int          `json:"created"`
	Unchanged int          `json:"unchanged"`
	Lines     []ImportLine `json:"lines"`
}

// ImportPeople adds the people of a CSV file (a header line naming the columns sub, name,
// role and optionally email, org, entraId; then one person per line), all or none: a line
// that is invalid, that contradicts the directory (the same subject with other values) or
// another line refuses the whole file (422 invalid_import, with every line's outcome). A
// person already there as given is left as they are. A dry run says what would happen and
// writes nothing.
func (s *Service) ImportPeople(ctx context.Context, file []byte, dryRun bool) (ImportReport, error) {
	rows, err := readImport(file)
	if err != nil {
		return ImportReport{}, err
	}
	report := ImportReport{DryRun: dryRun}
	var toCreate []store.Person
	seenSubs, seenEntra := map[string]int{}, map[string]int{}
	for _, row := range rows {
		line := ImportLine{Line: row.line, Sub: row.person.Sub, Outcome: OutcomeCreated}
		p, _, errs := s.newPerson(ctx, row.person, SourceImport)
		if first, dup := seenSubs[p.Sub]; dup {
			errs = append(errs, httpx.FieldError{Field: "sub", Message: fmt.Sprintf("is also on line %d", first)})
		}
		if first, dup := seenEntra[p.EntraID]; dup && p.EntraID != "" {
			errs = append(errs, httpx.FieldError{Field: "entraId", Message: fmt.Sprintf("is also on line %d", first)})
		}
		seenSubs[p.Sub], seenEntra[p.EntraID] = row.line, row.line
		switch existing, err := s.store.PersonBySub(ctx, p.Sub); {
		case len(errs) > 0:
			line.Outcome, line.Errors = OutcomeRefused, errs
		case err == nil && sameAsGiven(existing, p):
			line.Outcome = OutcomeUnchanged
			report.Unchanged++
		case err == nil:
			line.Outcome, line.Errors = OutcomeRefused, []httpx.FieldError{{Field: "sub", Message: "is in the directory with other values: change them with PATCH /v1/people/{sub}"}}
		case errors.Is(err, store.ErrNoPerson):
			toCreate = append(toCreate, p)
			report.Created++
		default:
			return ImportReport{}, err
		}
		report.Lines = append(report.Lines, line)
	}
	if slices.ContainsFunc(report.Lines, func(l ImportLine) bool { return l.Outcome == OutcomeRefused }) {
		return report, httpx.Unprocessable("invalid_import", "Lines of the file are refused: nothing was imported; see lines.").With("lines", report.Lines)
	}
	if dryRun || len(toCreate) == 0 {
		return report, nil
	}
	if err := s.store.InsertPeople(ctx, toCreate); err != nil {
		return ImportReport{}, problemOf(err) // a concurrent change since the checks: nothing was written
	}
	return report, nil
}

// sameAsGiven tells whether the directory already holds p as created (by an admin or a
// line of an import).
func sameAsGiven(existing, p store.Person) bool {
	return existing.Name == p.Name && existing.Email == p.Email && existing.Role == p.Role && existing.Org == p.Org &&
		existing.EntraID == p.EntraID && slices.Equal(existing.Domains, p.Domains)
}

type importRow struct {
	line   int
	person NewPerson
}

// readImport reads the CSV file: comma- or semicolon-separated (spreadsheets in French
// write semicolons), with a header line.
func readImport(file []byte) ([]importRow, error) {
	text := strings.TrimPrefix(string(file), "\uFEFF") // spreadsheets' byte order mark
	header, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	if strings.Count(header, ";") > strings.Count(header, ",") {
		r.Comma = ';'
	}
	r.FieldsPerRecord = 0
	records, err := r.ReadAll()
	if err != nil {
		return nil, httpx.Unprocessable("invalid_import", "The file is not valid CSV: "+err.Error()+".")
	}
	if len(records) < 2 {
		return nil, httpx.Unprocessable("invalid_import", "The file has no person: a header line (sub,name,role,email,org,entraId), then one person per line.")
	}
	if len(records)-1 > MaxImportLines {
		return nil, httpx.Unprocessable("invalid_import", fmt.Sprintf("The file has %d people: at most %d at once.", len(records)-1, MaxImportLines))
	}
	cols := map[string]int{}
	for i, name := range records[0] {
		name = strings.TrimSpace(name)
		if !slices.Contains(importColumns, name) {
			return nil, httpx.Unprocessable("invalid_import", fmt.Sprintf("Unknown column %q: the columns are %s.", name, strings.Join(importColumns, ", ")))
		}
		cols[name] = i
	}
	for _, required := range importColumns[:3] {
		if _, ok := cols[required]; !ok {
			return nil, httpx.Unprocessable("invalid_import", fmt.Sprintf("The header line lacks the column %q.", required))
		}
	}
	rows := make([]importRow, 0, len(records)-1)
	for i, rec := range records[1:] {
		get := func(name string) string {
			if j, ok := cols[name]; ok {
				return strings.TrimSpace(rec[j])
			}
			return ""
		}
		rows = append(rows, importRow{line: i + 2, person: NewPerson{Sub: get("sub"), Name: get("name"), Role: get("role"),
			Email: get("email"), Org: get("org"), EntraID: get("entraId")}})
	}
	return rows, nil
}
