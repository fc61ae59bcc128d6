package temporalx

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/plateforme-rome/rome/platform/payloadcodec"
)

// testKeys is a codec key list for the tests.
var testKeys = "test-1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, payloadcodec.KeySize))

// env is an Env with no config file, so that the machine's own
// ~/.config/temporalio/temporal.toml does not leak into the tests.
func env(t *testing.T, kv ...string) EnvList {
	t.Helper()
	return append(EnvList{"TEMPORAL_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none.toml")}, kv...)
}

func load(t *testing.T, e EnvList, dev bool) client.Options {
	t.Helper()
	cfg, err := LoadConfig(e, dev)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.ClientOptions(slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	opts := load(t, env(t, "TEMPORAL_ADDRESS=", "TEMPORAL_NAMESPACE="), true)
	if opts.HostPort != DefaultAddress || opts.Namespace != DefaultNamespace {
		t.Fatalf("defaults: %s %s", opts.HostPort, opts.Namespace)
	}
	if len(opts.Interceptors) != 1 || opts.MetricsHandler == nil || opts.Logger == nil {
		t.Fatal("tracing interceptor, metrics handler or logger missing")
	}
	if opts.ConnectionOptions.TLS != nil || opts.Credentials != nil || opts.DataConverter != nil {
		t.Fatal("TLS, credentials or a codec without settings")
	}
	opts = load(t, env(t, "TEMPORAL_ADDRESS=temporal:7233", "TEMPORAL_NAMESPACE=rome"), true)
	if opts.HostPort != "temporal:7233" || opts.Namespace != "rome" {
		t.Fatalf("env: %s %s", opts.HostPort, opts.Namespace)
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	opts := load(t, env(t, "TEMPORAL_API_KEY=secret-key"), true)
	if opts.Credentials == nil {
		t.Fatal("no credentials for TEMPORAL_API_KEY")
	}
	// An API key goes over TLS unless TLS is turned off explicitly.
	if opts.ConnectionOptions.TLS == nil {
		t.Fatal("API key without TLS")
	}
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t)
	opts := load(t, env(t, "TEMPORAL_TLS=true", "TEMPORAL_TLS_CLIENT_CERT_PATH="+cert, "TEMPORAL_TLS_CLIENT_KEY_PATH="+key,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH="+cert, "TEMPORAL_TLS_SERVER_NAME=temporal.rome.internal"), true)
	tls := opts.ConnectionOptions.TLS
	if tls == nil || len(tls.Certificates) != 1 || tls.RootCAs == nil || tls.ServerName != "temporal.rome.internal" {
		t.Fatalf("TLS = %+v", tls)
	}
	if opts = load(t, env(t, "TEMPORAL_TLS=false"), true); !opts.ConnectionOptions.TLSDisabled {
		t.Error("TEMPORAL_TLS=false does not turn TLS off")
	}
	if _, err := LoadConfig(env(t, "TEMPORAL_TLS_CLIENT_CERT_PATH="+cert), true); err == nil {
		t.Error("a client certificate without its key was accepted")
	}
	if _, err := LoadConfig(env(t, "TEMPORAL_TLS=yes"), true); err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS") {
		t.Errorf("TEMPORAL_TLS=yes: %v, want an error naming it", err)
	}
}

// A profile of the TOML file, chosen by TEMPORAL_PROFILE; the variables override it.
func TestProfileFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "temporal.toml")
	toml := `[profile.default]
address = "127.0.0.1:7233"

[profile.production]
address = "rome.a1b2c.tmprl.cloud:7233"
namespace = "rome.a1b2c"
api_key = "from-the-file"
`
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := load(t, EnvList{"TEMPORAL_CONFIG_FILE=" + file, "TEMPORAL_PROFILE=production"}, true)
	if opts.HostPort != "rome.a1b2c.tmprl.cloud:7233" || opts.Namespace != "rome.a1b2c" || opts.Credentials == nil || opts.ConnectionOptions.TLS == nil {
		t.Fatalf("production profile: %s %s credentials %v TLS %v", opts.HostPort, opts.Namespace, opts.Credentials != nil, opts.ConnectionOptions.TLS != nil)
	}
	opts = load(t, EnvList{"TEMPORAL_CONFIG_FILE=" + file, "TEMPORAL_PROFILE=production", "TEMPORAL_NAMESPACE=rome-staging"}, true)
	if opts.Namespace != "rome-staging" {
		t.Errorf("TEMPORAL_NAMESPACE does not override the profile: %s", opts.Namespace)
	}
	if _, err := LoadConfig(EnvList{"TEMPORAL_CONFIG_FILE=" + file, "TEMPORAL_PROFILE=staging"}, true); err == nil || !strings.Contains(err.Error(), "staging") {
		t.Errorf("unknown profile: %v", err)
	}
}

// With keys, what the client writes is encrypted; outside dev mode, keys are required.
func TestCodec(t *testing.T) {
	t.Parallel()
	opts := load(t, env(t, "TEMPORAL_CODEC_KEYS="+testKeys), false)
	if opts.DataConverter == nil {
		t.Fatal("no data converter with TEMPORAL_CODEC_KEYS")
	}
	p, err := opts.DataConverter.ToPayload(map[string]string{"name": "Alice Martin"})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata[converter.MetadataEncoding]) != payloadcodec.EncodingEncrypted || bytes.Contains(p.Data, []byte("Alice")) {
		t.Fatalf("payload not encrypted: %v", p)
	}
	_, err = LoadConfig(env(t), false)
	if err == nil || !strings.Contains(err.Error(), payloadcodec.EnvKeys) {
		t.Fatalf("no keys outside dev mode: %v, want an error naming %s", err, payloadcodec.EnvKeys)
	}
	if _, err := LoadConfig(env(t, "TEMPORAL_CODEC_KEYS=k1:short"), true); err == nil {
		t.Fatal("a bad key was accepted")
	}
}

func TestEnvListLastValueWins(t *testing.T) {
	t.Parallel()
	l := EnvList{"A=1", "B=x=y", "A=2"}
	if v, ok := l.LookupEnv("A"); !ok || v != "2" {
		t.Errorf("A = %q %v", v, ok)
	}
	if v, _ := l.LookupEnv("B"); v != "x=y" {
		t.Errorf("B = %q", v)
	}
	if _, ok := l.LookupEnv("C"); ok {
		t.Error("C found")
	}
}

// TestDialWithoutServer: a service must start while Temporal is down, and
// its health check must say so.
func TestDialWithoutServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "none.toml"))
	t.Setenv("TEMPORAL_ADDRESS", addr)
	t.Setenv("TEMPORAL_CODEC_KEYS", testKeys)
	cfg, err := ConfigFromEnv(false)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	c, err := cfg.Dial(t.Context(), slog.Default())
	if err != nil {
		t.Fatalf("Dial must not fail when Temporal is down: %v", err)
	}
	defer c.Close()
	if time.Since(start) > DialTimeout+2*time.Second {
		t.Fatalf("Dial blocked for %v", time.Since(start))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err == nil {
		t.Fatal("health check passed with no server")
	}
}

// selfSigned writes a certificate and its key, usable both as a client certificate and
// as the CA that signed the server's.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rome-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
