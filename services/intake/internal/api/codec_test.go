package api

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/payloadcodec"
	"github.com/plateforme-rome/rome/platform/temporalx"
)

const uiOrigin = "http://127.0.0.1:8233"

func testCodec(t *testing.T, id string, fill byte) *payloadcodec.Codec {
	t.Helper()
	c, err := payloadcodec.New(map[string][]byte{id: bytes.Repeat([]byte{fill}, payloadcodec.KeySize)}, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// codecEnv is the router with the codec routes on codec, for the namespace "default".
func codecEnv(t *testing.T, codec *payloadcodec.Codec, anonymous bool) *env {
	t.Helper()
	return newEnv(t, func(d *Deps) {
		d.Codec = CodecConfig{Namespace: "default", Origins: []string{uiOrigin}, Anonymous: anonymous}
		if codec != nil {
			d.Codec.Codec = codec
		}
	})
}

// payloadsJSON is a codec request body, as the Temporal UI sends it.
func payloadsJSON(t *testing.T, payloads ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// answered reads a codec answer back into payloads.
func answered(t *testing.T, res result) []*commonpb.Payload {
	t.Helper()
	var out commonpb.Payloads
	if err := protojson.Unmarshal([]byte(res.raw), &out); err != nil {
		t.Fatalf("not a Payloads object: %s", res.raw)
	}
	return out.Payloads
}

func secretPayload(t *testing.T) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"name": "Alice Martin", "message": "Bonjour"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCodecDecodesForAdmins(t *testing.T) {
	codec := testCodec(t, "k1", 1)
	e := codecEnv(t, codec, false)
	who := e.cast(t)
	secret := secretPayload(t)
	enc, err := codec.Encode([]*commonpb.Payload{secret})
	if err != nil {
		t.Fatal(err)
	}
	body := payloadsJSON(t, enc...)
	ns := []string{"X-Namespace", "default"}

	if res := call(t, e.h, "POST", "/codec/decode", body, "", ns...); res.status != 401 || res.body["code"] != "unauthenticated" {
		t.Fatalf("without a token: %d %v", res.status, res.body)
	}
	for name, tok := range map[string]string{"partner": who.partner, "moderator": who.moderator, "service": who.service} {
		if res := call(t, e.h, "POST", "/codec/decode", body, tok, ns...); res.status != 403 || res.body["code"] != "forbidden_role" {
			t.Errorf("%s: %d %v", name, res.status, res.body)
		}
	}
	res := call(t, e.h, "POST", "/codec/decode", body, who.admin, ns...)
	if res.status != 200 {
		t.Fatalf("admin: %d %s", res.status, res.raw)
	}
	if got := answered(t, res); len(got) != 1 || !bytes.Equal(got[0].Data, secret.Data) || string(got[0].Metadata["encoding"]) != "json/plain" {
		t.Fatalf("decoded %v, want %v", got, secret)
	}

	// The UI encodes what it sends (a signal's input): the workers decrypt it.
	res = call(t, e.h, "POST", "/codec/encode", payloadsJSON(t, secret), who.admin, ns...)
	if res.status != 200 {
		t.Fatalf("encode: %d %s", res.status, res.raw)
	}
	encoded := answered(t, res)
	if len(encoded) != 1 || string(encoded[0].Metadata[payloadcodec.MetadataKeyID]) != "k1" || bytes.Contains(encoded[0].Data, []byte("Alice")) {
		t.Fatalf("encoded %v", encoded)
	}
	if back, err := codec.Decode(encoded); err != nil || !bytes.Equal(back[0].Data, secret.Data) {
		t.Fatalf("the encoded payload does not decrypt: %v", err)
	}

	// An empty list is answered with an empty list, present.
	if res := call(t, e.h, "POST", "/codec/decode", `{"payloads":[]}`, who.admin, ns...); res.status != 200 || !strings.Contains(res.raw, `"payloads":[]`) {
		t.Errorf("empty list: %d %s", res.status, res.raw)
	}
}

func TestCodecNamespace(t *testing.T) {
	e := codecEnv(t, testCodec(t, "k1", 1), false)
	admin := e.token(t, "ada", auth.RoleAdmin, "")
	body := payloadsJSON(t, secretPayload(t))
	if res := call(t, e.h, "POST", "/codec/decode", body, admin, "X-Namespace", "other"); res.status != 403 || res.body["code"] != "namespace_forbidden" {
		t.Errorf("another namespace: %d %v", res.status, res.body)
	}
	if res := call(t, e.h, "POST", "/codec/decode", body, admin); res.status != 400 || res.body["code"] != "namespace_required" {
		t.Errorf("no namespace: %d %v", res.status, res.body)
	}
}

func TestCodecCORS(t *testing.T) {
	e := codecEnv(t, testCodec(t, "k1", 1), false)
	admin := e.token(t, "ada", auth.RoleAdmin, "")
	preflight := []string{"Origin", uiOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,x-namespace"}
	for _, path := range []string{"/codec/decode", "/codec/encode"} {
		res := call(t, e.h, "OPTIONS", path, "", "", preflight...)
		h := res.header
		if res.status != 204 || h.Get("Access-Control-Allow-Origin") != uiOrigin || h.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Namespace") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight of %s: %d %v", path, res.status, h)
		}
	}
	res := call(t, e.h, "OPTIONS", "/codec/decode", "", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if res.status != 403 || res.body["code"] != "origin_not_allowed" || res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of another origin: %d %v %v", res.status, res.header, res.body)
	}
	// The answers, errors included, carry the headers the browser needs to read them.
	res = call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, secretPayload(t)), admin, "X-Namespace", "default", "Origin", uiOrigin)
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != uiOrigin {
		t.Errorf("POST from the UI: %d %v", res.status, res.header)
	}
	res = call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, secretPayload(t)), "", "X-Namespace", "default", "Origin", uiOrigin)
	if res.status != 401 || res.header.Get("Access-Control-Allow-Origin") != uiOrigin {
		t.Errorf("401 from the UI: %d %v", res.status, res.header)
	}
	res = call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, secretPayload(t)), admin, "X-Namespace", "default", "Origin", "https://evil.example")
	if res.status != 403 || res.body["code"] != "origin_not_allowed" {
		t.Errorf("POST from another origin: %d %v", res.status, res.body)
	}
}

func TestCodecRefusesWhatItCannotDecrypt(t *testing.T) {
	codec := testCodec(t, "k2", 2)
	e := codecEnv(t, codec, false)
	admin := e.token(t, "ada", auth.RoleAdmin, "")
	ns := []string{"X-Namespace", "default"}

	byOtherKey, _ := testCodec(t, "k1", 1).Encode([]*commonpb.Payload{secretPayload(t)})
	res := call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, byOtherKey...), admin, ns...)
	if res.status != 422 || res.body["code"] != "unknown_key" || !strings.Contains(res.raw, `\"k1\"`) {
		t.Errorf("unknown key: %d %s", res.status, res.raw)
	}
	tampered, _ := codec.Encode([]*commonpb.Payload{secretPayload(t)})
	tampered[0].Data[len(tampered[0].Data)-1] ^= 1
	if res := call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, tampered...), admin, ns...); res.status != 422 || res.body["code"] != "undecryptable_payload" {
		t.Errorf("tampered: %d %s", res.status, res.raw)
	}
	for _, body := range []string{`{"payloads":"x"}`, `not json`, `{"payloads":[{"data":"%%%"}]}`} {
		if res := call(t, e.h, "POST", "/codec/decode", body, admin, ns...); res.status != 400 || res.body["code"] != "malformed_payloads" {
			t.Errorf("%s: %d %s", body, res.status, res.raw)
		}
	}
}

// Dev mode: the dev server's UI forwards no token; a token that comes is still checked.
func TestCodecAnonymousInDevMode(t *testing.T) {
	codec := testCodec(t, "k1", 1)
	e := codecEnv(t, codec, true)
	enc, _ := codec.Encode([]*commonpb.Payload{secretPayload(t)})
	if res := call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, enc...), "", "X-Namespace", "default"); res.status != 200 {
		t.Errorf("no token in dev mode: %d %s", res.status, res.raw)
	}
	partner := e.token(t, "alice", auth.RolePartner, "opco-2i")
	if res := call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, enc...), partner, "X-Namespace", "default"); res.status != 403 {
		t.Errorf("partner in dev mode: %d %s", res.status, res.raw)
	}
	if res := call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, enc...), "not-a-token", "X-Namespace", "default"); res.status != 401 {
		t.Errorf("bad token in dev mode: %d %s", res.status, res.raw)
	}
}

// Without keys (dev mode only) the processes write in clear, and the codec has nothing to do.
func TestCodecWithoutKeysPassesThrough(t *testing.T) {
	e := codecEnv(t, nil, true)
	secret := secretPayload(t)
	for _, path := range []string{"/codec/encode", "/codec/decode"} {
		res := call(t, e.h, "POST", path, payloadsJSON(t, secret), "", "X-Namespace", "default")
		if got := answered(t, res); res.status != 200 || len(got) != 1 || !bytes.Equal(got[0].Data, secret.Data) {
			t.Errorf("%s: %d %s", path, res.status, res.raw)
		}
	}
}

// The zero configuration serves no namespace: a router built without it refuses everything.
func TestCodecZeroConfigRefuses(t *testing.T) {
	e := newEnv(t)
	admin := e.token(t, "ada", auth.RoleAdmin, "")
	if res := call(t, e.h, "POST", "/codec/decode", payloadsJSON(t, secretPayload(t)), admin, "X-Namespace", "default"); res.status != 403 {
		t.Errorf("zero config: %d %s", res.status, res.raw)
	}
}

func TestCodecConfigFromEnv(t *testing.T) {
	// As the service reads them: the Temporal settings once, then the codec routes'.
	readCodecConfig := func(devMode bool) (CodecConfig, error) {
		temporal, err := temporalx.ConfigFromEnv(devMode)
		if err != nil {
			return CodecConfig{}, err
		}
		return CodecConfigFromEnv(temporal, devMode)
	}
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, payloadcodec.KeySize))
	setEnv(t, map[string]string{"TEMPORAL_CONFIG_FILE": t.TempDir() + "/none.toml", "TEMPORAL_NAMESPACE": "rome",
		"TEMPORAL_CODEC_KEYS": "k1:" + key, "TEMPORAL_CODEC_CORS_ORIGINS": "http://127.0.0.1:8233/, https://temporal.rome.example"})
	cfg, err := readCodecConfig(false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Namespace != "rome" || cfg.Codec == nil || cfg.Anonymous || strings.Join(cfg.Origins, " ") != "http://127.0.0.1:8233 https://temporal.rome.example" {
		t.Errorf("config: %+v", cfg)
	}
	t.Setenv("TEMPORAL_CODEC_CORS_ORIGINS", "http://127.0.0.1:8233/ui")
	if _, err := readCodecConfig(false); err == nil || !strings.Contains(err.Error(), "TEMPORAL_CODEC_CORS_ORIGINS") {
		t.Errorf("an origin with a path: %v", err)
	}
	t.Setenv("TEMPORAL_CODEC_CORS_ORIGINS", "")
	t.Setenv("TEMPORAL_CODEC_KEYS", "")
	if _, err := readCodecConfig(false); err == nil || !strings.Contains(err.Error(), "TEMPORAL_CODEC_KEYS") {
		t.Errorf("no keys outside dev mode: %v", err)
	}
	if cfg, err := readCodecConfig(true); err != nil || cfg.Codec != nil || !cfg.Anonymous {
		t.Errorf("no keys in dev mode: %+v %v", cfg, err)
	}
}
