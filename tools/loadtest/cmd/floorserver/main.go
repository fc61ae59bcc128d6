// Command floorserver is the floor of the referential's reads for sidebyside: Gin in release
// mode answering every GET with one prebuilt JSON body (prebuilt gzip-compressed too, for
// the clients that take it), and nothing else (no routing by code, no logging, no
// middleware), so that the platform's reads can be compared with what this machine does
// at best through the same HTTP stack.
//
//	floorserver -addr 127.0.0.1:0 -body fiche.json
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address; the chosen one is printed on stdout")
	bodyFile := flag.String("body", "", "the JSON body served on every path")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floorserver:", err)
		os.Exit(1)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	gzipped := httpx.Gzip(body, gzip.BestSpeed)
	r.NoRoute(func(c *gin.Context) {
		if httpx.AcceptsGzip(c.Request) {
			c.Header("Content-Encoding", "gzip")
			c.Data(http.StatusOK, "application/json; charset=utf-8", gzipped)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", body)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floorserver:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	if err := http.Serve(ln, r); err != nil {
		fmt.Fprintln(os.Stderr, "floorserver:", err)
		os.Exit(1)
	}
}
