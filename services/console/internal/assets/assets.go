// Package assets serves the console's static files (the DSFR, htmx and the console's own
// CSS and JavaScript), embedded in the binary by web/build.sh. Every URL carries the
// fingerprint of the whole set, so the files are cached immutably and a new build is
// fetched anew; relative URLs inside the stylesheets (fonts, icons) keep working.
package assets

import (
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
)

//go:embed all:dist
var embedded embed.FS

// Prefix is where the assets are served: Prefix + fingerprint + "/" + name.
const Prefix = "/static/"

// required are the files every page links to: a binary built without web/build.sh lacks
// them and must not start.
var required = []string{"dsfr/dsfr.min.css", "dsfr/utility/icons/icons.css", "dsfr/dsfr.module.min.js", "htmx/htmx.min.js", "console.css", "console.js"}

// file is one asset, kept with its gzip encoding when that is smaller.
type file struct {
	body, gzipped []byte
	contentType   string
}

// Set is the embedded assets, fingerprinted.
type Set struct {
	fingerprint string
	files       map[string]file
}

// Load reads the embedded assets.
func Load() (*Set, error) {
	sub, err := fs.Sub(embedded, "dist")
	if err != nil {
		return nil, err
	}
	return load(sub)
}

func load(fsys fs.FS) (*Set, error) {
	s := &Set{files: map[string]file{}}
	var names []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == "README.md" {
			return err
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, name := range required {
		if _, err := fs.Stat(fsys, name); err != nil {
			return nil, fmt.Errorf("console assets: %s is missing: build them with `make assets` (services/console/web/build.sh) before building the console", name)
		}
	}
	sort.Strings(names)
	sum := sha256.New()
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(sum, "%s\x00%d\x00", name, len(body))
		sum.Write(body)
		f := file{body: body, contentType: contentType(name)}
		if compressible(f.contentType) {
			// Kept compressed when that makes it smaller.
			if gz := httpx.Gzip(body, gzip.BestCompression); len(gz) < len(body) {
				f.gzipped = gz
			}
		}
		s.files[name] = f
	}
	s.fingerprint = hex.EncodeToString(sum.Sum(nil))[:12]
	return s, nil
}

// URL is the fingerprinted URL of the asset name (e.g. "dsfr/dsfr.min.css").
func (s *Set) URL(name string) string {
	if _, ok := s.files[name]; !ok {
		panic("console assets: no asset " + name) // a template names a file the build does not copy
	}
	return Prefix + s.fingerprint + "/" + name
}

// Register serves the assets on r.
func (s *Set) Register(r gin.IRoutes) {
	r.GET(Prefix+":fingerprint/*name", s.serve)
	r.HEAD(Prefix+":fingerprint/*name", s.serve)
}

func (s *Set) serve(c *gin.Context) {
	f, ok := s.files[strings.TrimPrefix(path.Clean(c.Param("name")), "/")]
	if !ok || c.Param("fingerprint") != s.fingerprint {
		// An old fingerprint is a page from before a deployment: it gets the current
		// files only through a new page, never an immutable answer of other content.
		c.Header("Cache-Control", "no-store")
		c.String(http.StatusNotFound, "not found")
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	body := f.body
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if httpx.AcceptsGzip(c.Request) {
			h.Set("Content-Encoding", "gzip")
			body = f.gzipped
		}
	}
	c.Data(http.StatusOK, f.contentType, body)
}

// ownTypes are the types the console serves that Go's table lacks (the system's may too).
var ownTypes = map[string]string{".woff2": "font/woff2", ".ico": "image/x-icon", ".js": "text/javascript; charset=utf-8"}

func contentType(name string) string {
	if t, ok := ownTypes[path.Ext(name)]; ok {
		return t
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ct string) bool {
	for _, p := range []string{"text/", "image/svg+xml", "application/json"} {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}
