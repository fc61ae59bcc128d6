package httpx

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"
)

// OpenAPI serves a service's OpenAPI document (an embedded JSON file) with
// an ETag, so clients and tools can revalidate cheaply.
func OpenAPI(doc []byte) gin.HandlerFunc {
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return func(c *gin.Context) {
		c.Header("ETag", etag)
		c.Header("Cache-Control", "no-cache")
		if c.GetHeader("If-None-Match") == etag {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json", doc)
	}
}
