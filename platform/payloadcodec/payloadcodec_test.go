package payloadcodec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

var (
	keyA = bytes.Repeat([]byte{0xA1}, KeySize)
	keyB = bytes.Repeat([]byte{0xB2}, KeySize)
)

func newCodec(t *testing.T, keys map[string][]byte, active string) *Codec {
	t.Helper()
	c, err := New(keys, active)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// plain is what the SDK's default converter makes of a value: a JSON payload.
func plain(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	c := newCodec(t, map[string][]byte{"k1": keyA}, "k1")
	in := []*commonpb.Payload{plain(t, map[string]string{"name": "Alice Martin", "oid": "aad-123"}), plain(t, nil)}
	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range enc {
		if got := string(p.Metadata[converter.MetadataEncoding]); got != EncodingEncrypted {
			t.Errorf("payload %d: encoding %q, want %q", i, got, EncodingEncrypted)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Errorf("payload %d: key id %q, want k1", i, got)
		}
		if bytes.Contains(p.Data, []byte("Alice")) || bytes.Contains(p.Data, []byte("json/plain")) {
			t.Errorf("payload %d is readable: %q", i, p.Data)
		}
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(dec[i], in[i]) {
			t.Errorf("payload %d: decoded %v, want %v", i, dec[i], in[i])
		}
	}
	// Through the SDK's data converter, as the clients use it.
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
	p, err := dc.ToPayload(map[string]string{"message": "Bonjour"})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["message"] != "Bonjour" {
		t.Fatalf("data converter round trip: %v %v", back, err)
	}
}

// Two encryptions of one payload differ: a fresh nonce each time, so equal values cannot
// be told apart in a history.
func TestNonceIsFreshForEveryPayload(t *testing.T) {
	t.Parallel()
	c := newCodec(t, map[string][]byte{"k1": keyA}, "k1")
	p := plain(t, "même valeur")
	seen := map[string]bool{}
	for range 100 {
		enc, err := c.Encode([]*commonpb.Payload{p})
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(enc[0].Data[:12])
		if seen[nonce] {
			t.Fatal("a nonce was used twice")
		}
		seen[nonce] = true
	}
}

func TestTamperedCiphertextIsRefused(t *testing.T) {
	t.Parallel()
	c := newCodec(t, map[string][]byte{"k1": keyA}, "k1")
	enc, err := c.Encode([]*commonpb.Payload{plain(t, "décision")})
	if err != nil {
		t.Fatal(err)
	}
	for name, tamper := range map[string]func(p *commonpb.Payload){
		"flipped bit": func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 1 },
		"truncated":   func(p *commonpb.Payload) { p.Data = p.Data[:10] },
		"other key under the same id": func(p *commonpb.Payload) {
			other := newCodec(t, map[string][]byte{"k1": keyB}, "k1")
			o, _ := other.Encode([]*commonpb.Payload{plain(t, "décision")})
			p.Data = o[0].Data
		},
	} {
		p := proto.Clone(enc[0]).(*commonpb.Payload)
		tamper(p)
		if _, err := c.Decode([]*commonpb.Payload{p}); !errors.Is(err, ErrUndecryptable) {
			t.Errorf("%s: err = %v, want ErrUndecryptable", name, err)
		}
	}
}

// Rotation: the new key encrypts, the old one still decrypts what it encrypted.
func TestRotation(t *testing.T) {
	t.Parallel()
	before := newCodec(t, map[string][]byte{"2026-01": keyA}, "2026-01")
	old, err := before.Encode([]*commonpb.Payload{plain(t, "écrit avant la rotation")})
	if err != nil {
		t.Fatal(err)
	}
	after := newCodec(t, map[string][]byte{"2026-01": keyA, "2026-07": keyB}, "2026-07")
	fresh, err := after.Encode([]*commonpb.Payload{plain(t, "écrit après")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(fresh[0].Metadata[MetadataKeyID]); got != "2026-07" {
		t.Errorf("new payloads are encrypted with %q, want the active 2026-07", got)
	}
	dec, err := after.Decode(append(old, fresh...))
	if err != nil {
		t.Fatal(err)
	}
	var a, b string
	_ = converter.GetDefaultDataConverter().FromPayload(dec[0], &a)
	_ = converter.GetDefaultDataConverter().FromPayload(dec[1], &b)
	if a != "écrit avant la rotation" || b != "écrit après" {
		t.Errorf("decoded %q and %q", a, b)
	}
	// Once the old key is dropped, its payloads name it in a clear error.
	dropped := newCodec(t, map[string][]byte{"2026-07": keyB}, "2026-07")
	_, err = dropped.Decode(old)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `"2026-01"`) {
		t.Errorf("decode with the old key dropped: %v", err)
	}
}

// Histories written before encryption was turned on replay: their payloads pass through.
func TestPlaintextPassesThrough(t *testing.T) {
	t.Parallel()
	c := newCodec(t, map[string][]byte{"k1": keyA}, "k1")
	in := []*commonpb.Payload{plain(t, "en clair"), {Metadata: map[string][]byte{"encoding": []byte("binary/null")}}}
	out, err := c.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("payload %d was changed", i)
		}
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		keys   map[string][]byte
		active string
		want   string
	}{
		"no key":           {map[string][]byte{}, "", "no key"},
		"short key":        {map[string][]byte{"k1": keyA[:16]}, "k1", "16 bytes"},
		"active not given": {map[string][]byte{"k1": keyA}, "k2", `"k2" is not among`},
		"bad id":           {map[string][]byte{"k 1": keyA}, "k 1", "letters, digits"},
	} {
		if _, err := New(tc.keys, tc.active); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	if c, err := FromEnv(lookupIn(nil)); c != nil || err != nil {
		t.Fatalf("no key: %v %v, want nil, nil", c, err)
	}
	c, err := FromEnv(lookupIn(map[string]string{EnvKeys: "old:" + b64(keyA) + ", new:" + b64(keyB), EnvActiveKey: "new"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ActiveKeyID() != "new" || strings.Join(c.KeyIDs(), ",") != "new,old" {
		t.Errorf("active %s, keys %v", c.ActiveKeyID(), c.KeyIDs())
	}
	// A single key needs no TEMPORAL_CODEC_ACTIVE_KEY.
	if c, err := FromEnv(lookupIn(map[string]string{EnvKeys: "only:" + b64(keyA)})); err != nil || c.ActiveKeyID() != "only" {
		t.Errorf("single key: %v %v", c, err)
	}
}

// A mounted secret: one key a line, a trailing newline.
func TestFromEnvFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("2026-01:"+b64(keyA)+"\n2026-07:"+b64(keyB)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(lookupIn(map[string]string{EnvKeysFile: file, EnvActiveKey: "2026-07"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ActiveKeyID() != "2026-07" || len(c.KeyIDs()) != 2 {
		t.Errorf("active %s, keys %v", c.ActiveKeyID(), c.KeyIDs())
	}
	_, err = FromEnv(lookupIn(map[string]string{EnvKeysFile: filepath.Join(t.TempDir(), "missing")}))
	if err == nil || !strings.Contains(err.Error(), EnvKeysFile) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFromEnvRefusesBadKeys(t *testing.T) {
	t.Parallel()
	secret := b64(keyA[:31])
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"31-byte key":        {map[string]string{EnvKeys: "k1:" + secret}, "31 bytes"},
		"not base64":         {map[string]string{EnvKeys: "k1:not*base64"}, "not standard base64"},
		"no id":              {map[string]string{EnvKeys: b64(keyA)}, "not id:base64key"},
		"id twice":           {map[string]string{EnvKeys: "k1:" + b64(keyA) + ",k1:" + b64(keyB), EnvActiveKey: "k1"}, "given twice"},
		"several, no active": {map[string]string{EnvKeys: "k1:" + b64(keyA) + ",k2:" + b64(keyB)}, EnvActiveKey},
		"unknown active":     {map[string]string{EnvKeys: "k1:" + b64(keyA), EnvActiveKey: "k9"}, `"k9" is not among`},
		"active, no keys":    {map[string]string{EnvActiveKey: "k1"}, "no key is given"},
		"both sources":       {map[string]string{EnvKeys: "k1:" + b64(keyA), EnvKeysFile: "/keys"}, "both set"},
		"empty list":         {map[string]string{EnvKeys: " , "}, "no key in the list"},
	} {
		_, err := FromEnv(lookupIn(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
}
