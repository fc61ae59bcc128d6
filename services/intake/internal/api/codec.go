package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/payloadcodec"
	"github.com/plateforme-rome/rome/platform/temporalx"
)

// The codec server: Temporal's remote codec protocol (POST <endpoint>/encode and
// <endpoint>/decode, a JSON Payloads object each way) over the payload codec the intake
// and the worker write histories with, so that ops read encrypted histories in the
// Temporal UI (its codec endpoint set to <intake>/codec) and with the temporal CLI
// (TEMPORAL_CODEC_ENDPOINT=<intake>/codec, TEMPORAL_CODEC_AUTH="Bearer <token>").

// maxCodecBody: a history event's payloads, each at most the server's 2 MB blob limit,
// base64-encoded.
const maxCodecBody = 8 << 20

// CodecConfig configures the codec routes. The zero value refuses every request.
type CodecConfig struct {
	// Codec encrypts and decrypts; nil when payloads are stored in clear (dev mode without
	// keys), and then the routes return them as they are.
	Codec converter.PayloadCodec
	// Namespace is the only one served: the X-Namespace header must name it.
	Namespace string
	// Origins are the browser origins allowed to call (TEMPORAL_CODEC_CORS_ORIGINS): the
	// Temporal UI's.
	Origins []string
	// Anonymous serves requests that carry no token (dev mode only): the dev server's UI
	// cannot forward one, and anyone who reaches a dev-mode intake mints an admin token
	// at /dev/token anyway. A request with a token is checked as everywhere.
	Anonymous bool
}

// CodecConfigFromEnv reads the codec routes' settings: the namespace and codec of t, the
// settings the process dialed Temporal with, and TEMPORAL_CODEC_CORS_ORIGINS, a
// comma-separated list of origins such as http://127.0.0.1:8233.
func CodecConfigFromEnv(t temporalx.Config, devMode bool) (CodecConfig, error) {
	cfg := CodecConfig{Namespace: t.Client.Namespace, Anonymous: devMode}
	if t.Codec != nil { // a nil *Codec in the interface would not be nil
		cfg.Codec = t.Codec
	}
	for _, o := range strings.Split(config.String("TEMPORAL_CODEC_CORS_ORIGINS", ""), ",") {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return CodecConfig{}, fmt.Errorf("TEMPORAL_CODEC_CORS_ORIGINS: %q is not an origin (scheme://host[:port], e.g. http://127.0.0.1:8233)", o)
		}
		cfg.Origins = append(cfg.Origins, o)
	}
	return cfg, nil
}

// registerCodec mounts /codec/encode and /codec/decode, for admins.
func registerCodec(r *gin.Engine, v *auth.Verifier, cfg CodecConfig) {
	// Under Anonymous a request without a token skips the token checks; one with a token
	// goes through them.
	onlyWithToken := func(h gin.HandlerFunc) gin.HandlerFunc {
		return func(c *gin.Context) {
			if cfg.Anonymous && c.GetHeader("Authorization") == "" {
				c.Next()
				return
			}
			h(c)
		}
	}
	chain := []gin.HandlerFunc{cfg.cors, onlyWithToken(auth.Authenticate(v)), onlyWithToken(auth.RequireRole(auth.RoleAdmin)),
		cfg.checkNamespace, httpx.BodyLimit(maxCodecBody)}
	for path, transform := range map[string]func([]*commonpb.Payload) ([]*commonpb.Payload, error){
		"/codec/encode": cfg.encode,
		"/codec/decode": cfg.decode,
	} {
		r.OPTIONS(path, cfg.cors, preflight)
		r.POST(path, append(slices.Clone(chain), codecHandler(transform))...)
	}
}

// cors lets the listed origins call from a browser, their credentials included (the UI
// may send cookies to a codec behind a proxy that authenticates), and refuses the others:
// a page of another origin must not have histories decrypted. Requests without an Origin
// (the temporal CLI, scripts) are not a browser's and pass.
func (cfg CodecConfig) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" {
		c.Next()
		return
	}
	c.Header("Vary", "Origin")
	if !slices.Contains(cfg.Origins, origin) {
		httpx.WriteProblem(c, httpx.Forbidden("origin_not_allowed",
			"The origin "+origin+" may not call the codec: list it in TEMPORAL_CODEC_CORS_ORIGINS."))
		return
	}
	c.Header("Access-Control-Allow-Origin", origin)
	c.Header("Access-Control-Allow-Credentials", "true")
	c.Next()
}

// preflight answers a browser's OPTIONS before its POST.
func preflight(c *gin.Context) {
	c.Header("Allow", "OPTIONS, POST")
	if c.Writer.Header().Get("Access-Control-Allow-Origin") != "" { // an allowed origin's
		c.Header("Access-Control-Allow-Methods", "POST")
		c.Header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
		c.Header("Access-Control-Max-Age", "600")
	}
	c.Status(http.StatusNoContent)
}

// checkNamespace refuses payloads of another namespace: they are not encrypted with this
// namespace's keys, and encoding them would write this namespace's keys elsewhere.
func (cfg CodecConfig) checkNamespace(c *gin.Context) {
	switch ns := c.GetHeader("X-Namespace"); {
	case ns == "":
		httpx.WriteProblem(c, httpx.BadRequest("namespace_required", "The X-Namespace header must name the payloads' namespace."))
	case ns != cfg.Namespace:
		httpx.WriteProblem(c, httpx.Forbidden("namespace_forbidden", "This codec serves the namespace "+cfg.Namespace+" only."))
	default:
		c.Next()
	}
}

func (cfg CodecConfig) encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if cfg.Codec == nil {
		return payloads, nil
	}
	return cfg.Codec.Encode(payloads)
}

func (cfg CodecConfig) decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if cfg.Codec == nil {
		return payloads, nil
	}
	return cfg.Codec.Decode(payloads)
}

// codecHandler reads a Payloads object (protobuf JSON: bytes in base64), transforms its
// payloads and answers them the same way.
func codecHandler(transform func([]*commonpb.Payload) ([]*commonpb.Payload, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := httpx.ReadBody(c)
		if err != nil {
			_ = c.Error(err)
			return
		}
		var in commonpb.Payloads
		if err := protojson.Unmarshal(body, &in); err != nil {
			_ = c.Error(httpx.BadRequest("malformed_payloads",
				`The body must be a Payloads object: {"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}.`))
			return
		}
		out, err := transform(in.GetPayloads())
		switch {
		case errors.Is(err, payloadcodec.ErrUnknownKey):
			_ = c.Error(httpx.Unprocessable("unknown_key", err.Error()))
			return
		case errors.Is(err, payloadcodec.ErrUndecryptable):
			_ = c.Error(httpx.Unprocessable("undecryptable_payload", err.Error()))
			return
		case err != nil:
			_ = c.Error(err)
			return
		}
		// Each payload in protobuf JSON, the list always present (protojson leaves out an
		// empty one).
		res := struct {
			Payloads []json.RawMessage `json:"payloads"`
		}{Payloads: make([]json.RawMessage, len(out))}
		for i, p := range out {
			if res.Payloads[i], err = protojson.Marshal(p); err != nil {
				_ = c.Error(err)
				return
			}
		}
		c.JSON(http.StatusOK, res)
	}
}
