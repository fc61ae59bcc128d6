package assets

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"
)

func testFS(css string) fstest.MapFS {
	fs := fstest.MapFS{"README.md": {Data: []byte("generated")}}
	for _, name := range required {
		fs[name] = &fstest.MapFile{Data: []byte("/* " + name + " */")}
	}
	fs["dsfr/dsfr.min.css"] = &fstest.MapFile{Data: []byte(css)}
	fs["dsfr/fonts/Marianne-Regular.woff2"] = &fstest.MapFile{Data: []byte{0x77, 0x4f, 0x46, 0x32}}
	return fs
}

func serve(t *testing.T, s *Set, url string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := gin.New()
	s.Register(r)
	req := httptest.NewRequest(http.MethodGet, url, nil)
	req.Header = header
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func TestServesFingerprintedImmutableAssets(t *testing.T) {
	t.Parallel()
	css := strings.Repeat(".fr-btn{color:#000091}", 200)
	s, err := load(testFS(css))
	if err != nil {
		t.Fatal(err)
	}
	url := s.URL("dsfr/dsfr.min.css")
	if !strings.HasPrefix(url, Prefix) || !strings.HasSuffix(url, "/dsfr/dsfr.min.css") {
		t.Fatalf("URL = %s", url)
	}

	w := serve(t, s, url, http.Header{"Accept-Encoding": {"gzip, br"}})
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") || w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(zr); string(body) != css {
		t.Fatal("the gzip body is not the stylesheet")
	}
	if w := serve(t, s, url, http.Header{}); w.Header().Get("Content-Encoding") != "" || w.Body.String() != css {
		t.Fatalf("without Accept-Encoding: %v", w.Header())
	}
	font := serve(t, s, s.URL("dsfr/fonts/Marianne-Regular.woff2"), http.Header{"Accept-Encoding": {"gzip"}})
	if font.Header().Get("Content-Type") != "font/woff2" || font.Header().Get("Content-Encoding") != "" || !bytes.Equal(font.Body.Bytes(), []byte{0x77, 0x4f, 0x46, 0x32}) {
		t.Fatalf("font: %v", font.Header())
	}

	// Another content is another fingerprint; an old fingerprint is never served immutably.
	other, err := load(testFS(css + ".x{}"))
	if err != nil {
		t.Fatal(err)
	}
	if other.URL("dsfr/dsfr.min.css") == url {
		t.Fatal("the fingerprint did not change with the content")
	}
	if w := serve(t, other, url, http.Header{}); w.Code != http.StatusNotFound || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("old fingerprint: %d %v", w.Code, w.Header())
	}
	if w := serve(t, s, strings.TrimSuffix(url, "dsfr/dsfr.min.css")+"../../go.mod", http.Header{}); w.Code != http.StatusNotFound {
		t.Fatalf("a path outside the assets: %d", w.Code)
	}
}

func TestRefusesABuildWithoutItsAssets(t *testing.T) {
	t.Parallel()
	fs := testFS("")
	delete(fs, "htmx/htmx.min.js")
	if _, err := load(fs); err == nil || !strings.Contains(err.Error(), "make assets") {
		t.Fatalf("load = %v", err)
	}
}

func TestEmbeddedAssetsAreComplete(t *testing.T) {
	t.Parallel()
	s, err := Load()
	if err != nil {
		t.Fatal(err) // make assets (services/console/web/build.sh) was not run
	}
	for _, name := range required {
		_ = s.URL(name)
	}
}
