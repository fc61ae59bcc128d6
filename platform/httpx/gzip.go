package httpx

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
)

// AcceptsGzip tells whether the client takes a gzip-encoded answer (Accept-Encoding), that
// is names gzip without a zero weight.
func AcceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		name, weight, _ := strings.Cut(strings.ReplaceAll(params, " ", ""), "=")
		q, err := strconv.ParseFloat(weight, 64)
		return !strings.EqualFold(name, "q") || err != nil || q > 0
	}
	return false
}

// Gzip compresses b at level (gzip.BestSpeed … gzip.BestCompression).
func Gzip(b []byte, level int) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		panic(err) // a level out of range: a programming error
	}
	_, _ = zw.Write(b) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}
