package httpx

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                        false,
		"gzip":                    true,
		"deflate, gzip;q=0.8, br": true,
		"GZIP":                    true,
		"gzip;q=0":                false,
		"gzip; q=0, identity":     false,
		"br, identity":            false,
		"x-gzip-not-really, br":   false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", header)
		if got := AcceptsGzip(r); got != want {
			t.Errorf("Accept-Encoding %q: %v, want %v", header, got, want)
		}
	}
}

func TestGzip(t *testing.T) {
	doc := bytes.Repeat([]byte(`{"code":"M1805","libelle":"Études et développement informatique"},`), 300)
	gz := Gzip(doc, gzip.BestCompression)
	if len(gz) >= len(doc)/4 {
		t.Errorf("%d bytes compressed to %d", len(doc), len(gz))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if back, err := io.ReadAll(zr); err != nil || !bytes.Equal(back, doc) {
		t.Fatalf("round trip: %v, %d bytes back of %d", err, len(back), len(doc))
	}
}
