package devstack

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// TCPProxy puts several backends behind one address: each accepted connection is relayed,
// byte for byte, to the next backend in turn, skipping one that refuses the connection, so
// that clients keep working while a backend is down. It knows nothing of the protocol
// (gRPC to the Temporal frontends, HTTP to a service's replicas).
type TCPProxy struct {
	listener net.Listener
	backends []string
	next     atomic.Uint64

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // both ends of every relayed connection, closed by Close
	closed bool
	relays sync.WaitGroup
}

// proxyDialTimeout bounds the wait on one backend: a backend on this machine answers at once.
const proxyDialTimeout = 2 * time.Second

// StartTCPProxy listens on listen (host:port; port 0 picks a free one) and relays to backends.
func StartTCPProxy(listen string, backends []string) (*TCPProxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("TCP proxy: no backend")
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &TCPProxy{listener: l, backends: append([]string(nil), backends...), conns: map[net.Conn]struct{}{}}
	p.relays.Go(p.accept)
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *TCPProxy) Addr() string { return p.listener.Addr().String() }

// Close stops accepting, closes every relayed connection and waits for the relays to end.
func (p *TCPProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.listener.Close()
	p.relays.Wait()
	return err
}

func (p *TCPProxy) accept() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return // closed
		}
		p.relays.Go(func() { p.relay(client) })
	}
}

// relay connects client to a backend, the next one in turn that accepts, and copies both
// ways. A client no backend accepts is disconnected.
func (p *TCPProxy) relay(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	first := p.next.Add(1) - 1
	var backend net.Conn
	for i := range uint64(len(p.backends)) {
		addr := p.backends[(first+i)%uint64(len(p.backends))]
		c, err := net.DialTimeout("tcp", addr, proxyDialTimeout)
		if err == nil {
			backend = c
			break
		}
	}
	if backend == nil || !p.track(backend) {
		return
	}
	defer p.untrack(backend)

	done := make(chan error, 2)
	go func() { done <- pipe(backend, client) }()
	go func() { done <- pipe(client, backend) }()
	// A direction that ends cleanly was half-closed, and the other may still carry data; an
	// error on either (a reset, a backend killed) ends both, as it would without the proxy.
	for range 2 {
		if err := <-done; err != nil {
			return
		}
	}
}

// pipe copies src to dst until src ends, then closes dst for writing, as src's peer did.
func pipe(dst, src net.Conn) error {
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return nil
}

// track registers c for Close; false (c closed) once the proxy is closed.
func (p *TCPProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *TCPProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}
