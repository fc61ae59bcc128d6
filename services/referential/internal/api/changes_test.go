package api_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/delta"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

func init() {
	// The Atom feed is text to the OpenAPI validator, as the export's zip is a file.
	openapi3filter.RegisterBodyDecoder("application/atom+xml", openapi3filter.FileBodyDecoder)
}

// publishedHistory publishes change sets of every kind of element on v460 through the
// service's API (the real publication path), and returns the requests in version order.
func publishedHistory(t *testing.T, e *env) []string {
	t.Helper()
	service := e.token(auth.RoleService)
	m1805 := e.get("/v1/fiches/M1805").json(t)
	var synonyms []string
	for _, a := range m1805["appellations"].([]any) {
		if a := a.(map[string]any); a["classification"] != "PRINCIPALE" {
			synonyms = append(synonyms, a["codeOgr"].(string))
		}
	}
	var competence, coeur string // one compétence to remove, another whose cœur de métier changes
	for _, m := range m1805["competences"].(map[string]any)["savoirFaire"].([]any) {
		for _, c := range m.(map[string]any)["competences"].([]any) {
			c := c.(map[string]any)
			switch {
			case competence == "":
				competence = c["codeOgr"].(string)
			case coeur == "" && c["coeurMetier"] != "EMERGENTE":
				coeur = c["codeOgr"].(string)
			}
		}
	}
	sets := []map[string]any{
		{"codeRome": "M1805", "operations": []any{
			map[string]any{"op": "add_appellation", "libelle": "Développeur / Développeuse Rust"},
			map[string]any{"op": "set_text", "field": "definition", "text": "Conçoit et développe des logiciels.\nMaintient les applications."},
			map[string]any{"op": "add_mobilite", "toCodeRome": "M1402", "rank": 1}}},
		{"codeRome": "M1805", "operations": []any{
			map[string]any{"op": "update_appellation", "codeOgr": synonyms[0], "libelle": "Développeur / Développeuse d'applications web"}}},
		{"codeRome": "M1805", "operations": []any{
			map[string]any{"op": "remove_competence", "codeOgr": competence},
			map[string]any{"op": "set_coeur_metier", "codeOgr": coeur, "coeurMetier": "EMERGENTE"}}},
		{"codeRome": "M1805", "operations": []any{map[string]any{"op": "move_appellation", "codeOgr": synonyms[1], "toCodeRome": "M1806"}}},
		{"operations": []any{
			map[string]any{"op": "create_fiche", "domaineProfessionnel": "M18", "definition": "Conçoit des applications en Rust.",
				"accesEmploi": "Bac+5.", "appellationPrincipale": map[string]any{"codeOgr": "38823"}},
			map[string]any{"op": "add_competence", "codeOgr": "100023", "coeurMetier": "PRINCIPALE"}}},
		{"codeRome": "M1805", "operations": []any{map[string]any{"op": "set_tags", "emploiCadre": false}}},
	}
	var requests []string
	for i, cs := range sets {
		req := fmt.Sprintf("req-feed-%d", i+1)
		cs["id"], cs["requestId"], cs["baseVersion"] = fmt.Sprintf("cs-feed-%d", i+1), req, 60+i
		expect(t, e.do("POST", "/v1/changesets", service, cs), 201)
		requests = append(requests, req)
	}
	return requests
}

func TestChangeFeedDeltasAndProvenance(t *testing.T) {
	t.Parallel()
	for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			requests := publishedHistory(t, e)
			latest := 60 + len(requests)
			t.Run("change feed", func(t *testing.T) { checkChangeFeed(t, e, latest) })
			t.Run("Atom feed", func(t *testing.T) { checkAtomFeed(t, e, requests) })
			t.Run("deltas from v460 rebuild the latest export", func(t *testing.T) { checkDeltas(t, e, latest) })
			t.Run("provenance", func(t *testing.T) { checkProvenance(t, e, requests) })
		})
	}
}

type feedPage struct {
	Since, Version int
	Items          []struct {
		Version, Seq                     int
		CodeRome, ChangesetID, RequestID string
		Change                           map[string]any
	}
	NextCursor *string
}

func checkChangeFeed(t *testing.T, e *env, latest int) {
	var all []string
	cursor, pages := "", 0
	for {
		path := "/v1/changes?since=60&limit=4"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.get(path)
		expect(t, r, 200)
		var p feedPage
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Version != latest || p.Since != 60 || len(p.Items) > 4 {
			t.Fatalf("page %d: version %d since %d, %d items", pages, p.Version, p.Since, len(p.Items))
		}
		for _, it := range p.Items {
			if it.ChangesetID == "" || !strings.HasPrefix(it.RequestID, "req-feed-") || it.Change["entity"] == nil || it.CodeRome == "" {
				t.Errorf("incomplete change %+v", it)
			}
			all = append(all, fmt.Sprintf("%04d.%04d", it.Version, it.Seq))
		}
		pages++
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	// Every change of every version, each once, in (version, seq) order.
	want := 0
	for v := 61; v <= latest; v++ {
		want += len(e.get(fmt.Sprintf("/v1/versions/%d/changes", v)).json(t)["changes"].([]any))
	}
	if len(all) != want || !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != want || pages < 2 {
		t.Errorf("%d changes in %d pages (want %d, sorted and distinct): %v", len(all), pages, want, all)
	}
	tail := e.get(fmt.Sprintf("/v1/changes?since=%d", latest-1)).json(t)["items"].([]any)
	for _, it := range tail {
		if it.(map[string]any)["version"] != float64(latest) {
			t.Errorf("since=%d served %v", latest-1, it)
		}
	}
	if len(tail) == 0 {
		t.Error("since=latest-1 served nothing")
	}
	r := e.get(fmt.Sprintf("/v1/changes?since=%d", latest))
	expect(t, r, 200)
	if p := r.json(t); len(p["items"].([]any)) != 0 || p["nextCursor"] != nil {
		t.Errorf("since=current: %s", r.body)
	}
	expect(t, e.do("GET", "/v1/changes?since=60", "", nil, "If-None-Match", r.header.Get("ETag")), 304)
	for _, tc := range []struct{ query, code, field string }{
		{fmt.Sprintf("since=%d", latest+1), "since_beyond_current", "since"},
		{"since=abc", "invalid_since", "since"},
		{"since=-1", "invalid_since", "since"},
		{"since=60&cursor=%25%25", "invalid_cursor", "cursor"},
		{"since=60&cursor=bm9wZQ", "invalid_cursor", "cursor"},
		{"since=60&limit=0", "invalid_limit", "limit"},
	} {
		r := e.get("/v1/changes?" + tc.query)
		expect(t, r, 422)
		if c := problemCode(t, r); c != tc.code || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %s", tc.query, r.body)
		}
	}
}

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Content string `xml:"content"`
	} `xml:"entry"`
}

func checkAtomFeed(t *testing.T, e *env, requests []string) {
	r := e.get("/v1/changes.atom")
	expect(t, r, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
		t.Errorf("content type %q", ct)
	}
	var f atomDoc
	if err := xml.Unmarshal(r.body, &f); err != nil {
		t.Fatalf("not Atom: %v\n%s", err, r.body)
	}
	if f.ID == "" || f.Title == "" || f.Updated == "" || f.Author.Name == "" || len(f.Entries) != len(requests)+1 {
		t.Fatalf("feed %+v", f)
	}
	ids := map[string]bool{}
	for _, en := range f.Entries {
		if en.ID == "" || ids[en.ID] || en.Updated == "" || len(en.Links) == 0 {
			t.Errorf("entry %+v", en)
		}
		ids[en.ID] = true
	}
	newest, oldest := f.Entries[0], f.Entries[len(f.Entries)-1]
	if want := "Version 66 : fiche M1805 « Développeur / Développeuse informatique », demande " + requests[5]; newest.Title != want {
		t.Errorf("newest title %q, want %q", newest.Title, want)
	}
	if !strings.Contains(oldest.Title, "import") || !strings.Contains(oldest.Title, "ROME 4.0 version 60") {
		t.Errorf("import entry %q", oldest.Title)
	}
	if !strings.Contains(f.Entries[len(f.Entries)-2].Content, "Ajout · appellation") {
		t.Errorf("content of version 61: %q", f.Entries[len(f.Entries)-2].Content)
	}
	var again atomDoc
	if err := xml.Unmarshal(e.get("/v1/changes.atom").body, &again); err != nil || again.Entries[1].ID != f.Entries[1].ID {
		t.Errorf("ids are not stable: %v", err)
	}
	expect(t, e.do("GET", "/v1/changes.atom", "", nil, "If-None-Match", r.header.Get("ETag")), 304)
}

// checkDeltas applies every delta after v460 to a copy of the official files, as a
// consumer holding them would, and compares the result row by row with the latest export.
func checkDeltas(t *testing.T, e *env, latest int) {
	dir := t.TempDir()
	src, err := romecsv.Open(romedata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	files := map[string][][]string{} // dataset → rows, in file order
	for _, ds := range romecsv.Datasets {
		if err := src.ReadDataset(ds, 60, func(_ int, cols []string) error { files[ds.Name] = append(files[ds.Name], cols); return nil }); err != nil {
			t.Fatal(err)
		}
		writeCSV(t, filepath.Join(dir, ds.FileName(60)), ds.Columns, files[ds.Name])
	}
	first := readDelta(t, e, 60)
	nonEmpty := 0
	for _, rows := range files {
		if len(rows) > 0 {
			nonEmpty++
		}
	}
	if first.manifest.FromVersion != 0 || len(first.manifest.Files) != nonEmpty {
		t.Fatalf("the import's delta: from %d, %d files (%d non-empty in the release)", first.manifest.FromVersion, len(first.manifest.Files), nonEmpty)
	}
	for _, f := range first.manifest.Files {
		if f.Closed.Rows != 0 || f.Opened.Rows != len(files[f.Dataset]) {
			t.Errorf("import delta %s: %d opened, %d closed, the release has %d rows", f.Dataset, f.Opened.Rows, f.Closed.Rows, len(files[f.Dataset]))
		}
	}
	from := 60
	for v := 61; v <= latest; v++ {
		d := readDelta(t, e, v)
		if d.manifest.FromVersion != from || d.manifest.ToVersion != v || len(d.manifest.Files) == 0 {
			t.Fatalf("delta %d: %+v", v, d.manifest)
		}
		touched := map[string]bool{}
		for _, f := range d.manifest.Files {
			touched[f.Dataset] = true
			ds := romecsv.MustByName(f.Dataset)
			rows := readCSV(t, filepath.Join(dir, f.FromFile), ds.Columns)
			rows = applyDelta(ds, rows, d.rows(t, f.Closed, ds), d.rows(t, f.Opened, ds))
			writeCSV(t, filepath.Join(dir, f.ToFile), ds.Columns, rows)
			os.Remove(filepath.Join(dir, f.FromFile))
		}
		for _, ds := range romecsv.Datasets {
			if !touched[ds.Name] {
				if err := os.Rename(filepath.Join(dir, ds.FileName(from)), filepath.Join(dir, ds.FileName(v))); err != nil {
					t.Fatal(err)
				}
			}
		}
		from = v
	}
	r := e.get("/v1/export")
	expect(t, r, 200)
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range romecsv.Datasets {
		exported := readZipCSV(t, zr, ds.FileName(latest), ds.Columns)
		applied := readCSV(t, filepath.Join(dir, ds.FileName(latest)), ds.Columns)
		if len(exported) != len(applied) {
			t.Errorf("%s: %d rows after the deltas, %d exported", ds.Name, len(applied), len(exported))
			continue
		}
		for i := range exported {
			if !slices.Equal(exported[i], applied[i]) {
				t.Errorf("%s row %d: %q after the deltas, %q exported", ds.Name, i+1, applied[i], exported[i])
				break
			}
		}
	}
	etag := e.get("/v1/versions/61/delta").header.Get("ETag")
	expect(t, e.do("GET", "/v1/versions/61/delta", "", nil, "If-None-Match", etag), 304)
	expect(t, e.get("/v1/versions/99/delta"), 404)
	expect(t, e.get("/v1/versions/x/delta"), 404)
}

// applyDelta is the consumer's rule: drop the closed rows; an opened row whose key was
// closed takes its place, the others are appended.
func applyDelta(ds *romecsv.Dataset, rows, closed, opened [][]string) [][]string {
	gone := map[string]bool{}
	for _, c := range closed {
		gone[strings.Join(c, "\x00")] = true
	}
	byKey := map[string][]string{}
	for _, o := range opened {
		byKey[ds.Key(o)] = o
	}
	var out [][]string
	for _, r := range rows {
		if !gone[strings.Join(r, "\x00")] {
			out = append(out, r)
		} else if o, ok := byKey[ds.Key(r)]; ok {
			out = append(out, o)
			delete(byKey, ds.Key(r))
		}
	}
	for _, o := range opened {
		if _, ok := byKey[ds.Key(o)]; ok {
			out = append(out, o)
		}
	}
	return out
}

type deltaZip struct {
	zr       *zip.Reader
	manifest delta.Manifest
}

func readDelta(t *testing.T, e *env, v int) deltaZip {
	t.Helper()
	r := e.get(fmt.Sprintf("/v1/versions/%d/delta", v))
	expect(t, r, 200)
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	d := deltaZip{zr: zr}
	dec := json.NewDecoder(bytes.NewReader(zipFile(t, zr, delta.ManifestName)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d.manifest); err != nil || d.manifest.Format != "rome-delta/1" {
		t.Fatalf("manifest of %d: %v", v, err)
	}
	return d
}

// rows reads a part, checking its count and checksum against the manifest.
func (d deltaZip) rows(t *testing.T, p delta.Part, ds *romecsv.Dataset) [][]string {
	t.Helper()
	b := zipFile(t, d.zr, p.Path)
	sum := sha256.Sum256(b)
	rows := parseCSV(t, b, ds.Columns)
	if hex.EncodeToString(sum[:]) != p.SHA256 || len(rows) != p.Rows {
		t.Fatalf("%s: %d rows, sha256 %x; the manifest says %d, %s", p.Path, len(rows), sum, p.Rows, p.SHA256)
	}
	return rows
}

func zipFile(t *testing.T, zr *zip.Reader, name string) []byte {
	t.Helper()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readZipCSV(t *testing.T, zr *zip.Reader, name string, header []string) [][]string {
	return parseCSV(t, zipFile(t, zr, name), header)
}

func readCSV(t *testing.T, path string, header []string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseCSV(t, b, header)
}

// parseCSV reads a file of the official layout: its header, then its rows.
func parseCSV(t *testing.T, b []byte, header []string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 || !slices.Equal(recs[0], header) {
		t.Fatalf("not a CSV with header %v: %v", header, err)
	}
	return recs[1:]
}

func writeCSV(t *testing.T, path string, header []string, rows [][]string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(append([][]string{header}, rows...)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

type provenanceDoc struct {
	CodeRome string
	Version  int
	Elements []struct {
		Kind, CodeOgr, CodeRome, Field, Libelle string
		Introduced, LastChanged                 struct {
			Version                        int
			Source, ChangesetID, RequestID string
		}
	}
}

func checkProvenance(t *testing.T, e *env, requests []string) {
	r := e.get("/v1/fiches/M1805/provenance")
	expect(t, r, 200)
	var p provenanceDoc
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	type origin struct {
		kind                  string
		introduced, changed   int
		introducedBy, changer string
	}
	got := map[string]origin{} // by kind and code
	for _, el := range p.Elements {
		key := el.Kind + ":" + el.CodeOgr + el.CodeRome + el.Field
		got[key] = origin{el.Kind, el.Introduced.Version, el.LastChanged.Version, el.Introduced.RequestID, el.LastChanged.RequestID}
		if el.Introduced.Version == 60 && (el.Introduced.Source != "import" || el.Introduced.RequestID != "") {
			t.Errorf("%s: an element of the import names %+v", key, el.Introduced)
		}
	}
	rust := ""
	for _, el := range p.Elements {
		if el.Libelle == "Développeur / Développeuse Rust" {
			rust = el.CodeOgr
		}
	}
	for key, want := range map[string]origin{
		"fiche:M1805":         {"fiche", 60, 66, "", requests[5]},
		"texte:definition":    {"texte", 60, 61, "", requests[0]},
		"texte:accesEmploi":   {"texte", 60, 60, "", ""},
		"appellation:" + rust: {"appellation", 61, 61, requests[0], requests[0]},
		"mobilite:M1402":      {"mobilite", 61, 61, requests[0], requests[0]},
	} {
		if g := got[key]; g != want {
			t.Errorf("%s: %+v, want %+v", key, g, want)
		}
	}
	changedLabel, coeur := false, false
	for _, el := range p.Elements {
		switch {
		case el.Kind == "appellation" && el.LastChanged.Version == 62:
			changedLabel = el.Introduced.Version == 60 && el.LastChanged.RequestID == requests[1]
		case el.Kind == "competence" && el.LastChanged.Version == 63:
			coeur = el.Introduced.Version == 60 && el.LastChanged.RequestID == requests[2]
		}
	}
	if !changedLabel || !coeur {
		t.Errorf("the renamed appellation (%v) or the compétence whose cœur de métier changed (%v) is not traced", changedLabel, coeur)
	}
	// The moved appellation: on M1806 since the move.
	m1806 := e.get("/v1/fiches/M1806/provenance").json(t)
	moved := 0
	for _, el := range m1806["elements"].([]any) {
		el := el.(map[string]any)
		if in := el["introduced"].(map[string]any); el["kind"] == "appellation" && in["version"] == float64(64) && in["requestId"] == requests[3] {
			moved++
		}
	}
	if moved != 1 {
		t.Errorf("M1806 shows %d appellations moved in by %s", moved, requests[3])
	}
	old := e.get("/v1/fiches/M1805/provenance?version=60").json(t)
	for _, el := range old["elements"].([]any) {
		if v := el.(map[string]any)["lastChanged"].(map[string]any)["version"]; v != float64(60) {
			t.Errorf("at version 60, %v", el)
		}
	}
	expect(t, e.do("GET", "/v1/fiches/M1805/provenance", "", nil, "If-None-Match", r.header.Get("ETag")), 304)
	expect(t, e.get("/v1/fiches/Z9999/provenance"), 404)
	expect(t, e.get("/v1/fiches/M1805/provenance?version=99"), 404)
	expect(t, e.get("/v1/fiches/M1805/provenance?version=x"), 422)
}
