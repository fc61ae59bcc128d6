package devstack

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// namedBackend answers every connection with its name, then echoes what it reads until the
// client half-closes, then closes.
func namedBackend(t *testing.T, name string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := io.WriteString(c, name+"\n"); err != nil {
					return
				}
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}

// refusingAddr is an address nothing listens on: connecting there is refused.
func refusingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func startProxy(t *testing.T, backends ...string) *TCPProxy {
	t.Helper()
	p, err := StartTCPProxy("127.0.0.1:0", backends)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// dialProxy connects through the proxy and returns the connection and the name of the
// backend that answered.
func dialProxy(t *testing.T, p *TCPProxy) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	name, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("no backend answered through the proxy: %v", err)
	}
	return c, r, strings.TrimSpace(name)
}

func TestTCPProxyTakesBackendsInTurn(t *testing.T) {
	t.Parallel()
	p := startProxy(t, namedBackend(t, "a"), namedBackend(t, "b"))
	var got []string
	for range 4 {
		_, _, name := dialProxy(t, p)
		got = append(got, name)
	}
	if strings.Join(got, ",") != "a,b,a,b" {
		t.Errorf("connections went to %v, want a, b, a, b", got)
	}
}

// A backend that is down (a killed Temporal node) costs its clients nothing: the proxy
// connects them to the next one.
func TestTCPProxySkipsARefusingBackend(t *testing.T) {
	t.Parallel()
	p := startProxy(t, refusingAddr(t), namedBackend(t, "b"))
	for range 3 {
		if _, _, name := dialProxy(t, p); name != "b" {
			t.Fatalf("connection went to %q, want b (the only one up)", name)
		}
	}
}

func TestTCPProxyDisconnectsWhenNoBackendIsUp(t *testing.T) {
	t.Parallel()
	p := startProxy(t, refusingAddr(t), refusingAddr(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read %d bytes, %v; want EOF (disconnected)", n, err)
	}
}

// Bytes go both ways, and a client that half-closes still reads the backend's answer.
func TestTCPProxyRelaysBothWaysAndHalfCloses(t *testing.T) {
	t.Parallel()
	p := startProxy(t, namedBackend(t, "a"))
	c, r, _ := dialProxy(t, p)
	if _, err := io.WriteString(c, "ping"); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "ping" {
		t.Errorf("after half-closing, read %q, %v; want the echo ping, then EOF", rest, err)
	}
}

func TestTCPProxyCloseEndsRelayedConnections(t *testing.T) {
	t.Parallel()
	p := startProxy(t, namedBackend(t, "a"))
	c, r, _ := dialProxy(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadByte(); err == nil {
		t.Error("a relayed connection is still open after Close")
	}
	c.Close()
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("the proxy still accepts connections after Close")
	}
}

func TestStartTCPProxyNeedsABackend(t *testing.T) {
	t.Parallel()
	if p, err := StartTCPProxy("127.0.0.1:0", nil); err == nil {
		p.Close()
		t.Fatal("a proxy without backends started")
	}
}
