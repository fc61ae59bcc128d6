package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/plateforme-rome/rome/platform/httpx"
)

// MaxURLLength bounds an endpoint's URL.
const MaxURLLength = 2000

// CheckURL tells what is wrong with an endpoint URL, or returns it parsed: http or https,
// a host, no credentials (they would be stored and logged with it), no fragment (never
// sent). Unless allowPrivate, a host that is a loopback, private, link-local or
// unspecified address (or "localhost") is refused: the referential must not be turned
// into a way to reach its own network. Names are checked again when connecting, on the
// addresses they resolve to (Client).
func CheckURL(raw string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must be an http or https URL")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, errors.New("must name a host")
	case u.User != nil:
		return nil, errors.New("must not carry credentials: the signature authenticates the referential")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, errors.New("must not have a fragment")
	}
	if allowPrivate {
		return u, nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil, errors.New("must not point to this machine")
	}
	if ip, err := netip.ParseAddr(host); err == nil && !public(ip) {
		return nil, fmt.Errorf("must not point to a private or local address (%s)", ip)
	}
	return u, nil
}

// public tells whether an address is one the internet routes to.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!cgnat.Contains(ip)
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// ErrPrivateAddress is a connection refused because it led to a private or local address.
var ErrPrivateAddress = errors.New("the endpoint resolves to a private or local address")

// Client is the HTTP client of deliveries: it waits timeout at most for an answer, never
// follows redirects (a 3xx is a failed delivery: the signature is for one URL), uses no
// proxy, and, unless allowPrivate, refuses to connect to a private or local address
// whatever name led there (checked on the resolved address, so DNS cannot rebind around
// CheckURL).
func Client(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !public(ap.Addr()) {
				return ErrPrivateAddress
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: httpx.OutboundTransport(&http.Transport{
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: timeout,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
