// Package temporalx connects to Temporal with the platform's settings: the SDK's
// environment configuration (profiles, TLS, mTLS, API key), the payload codec that
// encrypts what histories keep, and the platform's logging and OpenTelemetry wiring.
package temporalx

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"

	"github.com/plateforme-rome/rome/platform/payloadcodec"
)

// DialTimeout bounds the eager connection attempt of Dial.
const DialTimeout = 3 * time.Second

// Where the client goes when nothing says otherwise: the local dev server.
const (
	DefaultAddress   = "127.0.0.1:7233"
	DefaultNamespace = "default"
)

// Env is where settings are read: envconfig.EnvLookupOS in the processes, EnvList in tools
// and tests.
type Env = envconfig.EnvLookup

// Config is what a process needs to reach Temporal.
type Config struct {
	// Client holds the connection settings of the SDK's environment configuration: a
	// profile of the TOML file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) overridden by the
	// standard variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
	// TEMPORAL_TLS*, TEMPORAL_GRPC_META_*…).
	Client client.Options
	// Codec encrypts the payloads (TEMPORAL_CODEC_KEYS or TEMPORAL_CODEC_KEYS_FILE); nil
	// stores them in clear, which only dev mode allows.
	Codec *payloadcodec.Codec
}

// ConfigFromEnv reads the Config from the process environment (see LoadConfig).
func ConfigFromEnv(devMode bool) (Config, error) {
	return LoadConfig(envconfig.EnvLookupOS, devMode)
}

// LoadConfig reads the Config from env. Outside dev mode the payload codec is required:
// histories hold people's names, Entra object ids and messages, and a production
// process that forgot its keys would write them in clear for as long as histories are kept.
func LoadConfig(env Env, devMode bool) (Config, error) {
	// envconfig ignores a boolean it cannot read; a typo must not turn TLS off silently.
	for _, key := range []string{"TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"} {
		if v, ok := env.LookupEnv(key); ok && v != "" && !validBool(v) {
			return Config{}, fmt.Errorf("%s=%q: not a boolean (use true or false)", key, v)
		}
	}
	// The remote codec a profile may name is the CLI's; the processes encrypt locally.
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: env})
	if err != nil {
		return Config{}, fmt.Errorf("temporal client settings: %w", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = DefaultAddress
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	codec, err := payloadcodec.FromEnv(env.LookupEnv)
	if err != nil {
		return Config{}, err
	}
	if codec == nil && !devMode {
		return Config{}, fmt.Errorf("%s or %s is required outside dev mode: workflow histories must not keep people's data in clear (see the README, \"Temporal client and payload encryption\")",
			payloadcodec.EnvKeys, payloadcodec.EnvKeysFile)
	}
	return Config{Client: opts, Codec: codec}, nil
}

func validBool(v string) bool {
	switch strings.ToLower(v) {
	case "1", "0", "true", "false":
		return true
	}
	return false
}

// ClientOptions are the connection settings with the payload codec as the data
// converter, the SDK's OpenTelemetry tracing interceptor (spans flow from HTTP requests
// into workflows and activities), its metrics handler, and logger for the SDK.
func (c Config) ClientOptions(logger *slog.Logger) (client.Options, error) {
	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
	if err != nil {
		return client.Options{}, err
	}
	opts := c.Client
	opts.Logger = tlog.NewStructuredLogger(logger.With("component", "temporal-sdk"))
	opts.MetricsHandler = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		// The default panics on a meter error; a metric is not worth a crash.
		OnError:              func(err error) { logger.Warn("temporal metrics error", "error", err) },
		UseMonotonicCounters: true,
	})
	opts.Interceptors = append(opts.Interceptors, tracing)
	if c.Codec != nil {
		opts.DataConverter = DataConverter(c.Codec)
	}
	return opts, nil
}

// DataConverter is the SDK's default converter with codec's encryption: what the
// processes write into histories, and what reads them back (the replay tests included).
func DataConverter(codec converter.PayloadCodec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec)
}

// Dial connects to Temporal with cfg (ConfigFromEnv). When the server is not reachable
// within DialTimeout (or ctx) it returns a lazy client that connects on first use, so a
// service starts before Temporal does; its readiness check (httpx.TemporalCheck) reports
// the connection meanwhile.
func (cfg Config) Dial(ctx context.Context, logger *slog.Logger) (client.Client, error) {
	opts, err := cfg.ClientOptions(logger)
	if err != nil {
		return nil, err
	}
	attrs := []any{"address", opts.HostPort, "namespace", opts.Namespace,
		"tls", opts.ConnectionOptions.TLS != nil, "api_key", opts.Credentials != nil}
	if cfg.Codec != nil {
		attrs = append(attrs, "encryption_key", cfg.Codec.ActiveKeyID(), "decryption_keys", cfg.Codec.KeyIDs())
	} else {
		logger.WarnContext(ctx, "payloads are stored in clear: dev mode without "+payloadcodec.EnvKeys)
	}
	logger.InfoContext(ctx, "temporal client", attrs...)
	dctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err == nil {
		return c, nil
	}
	logger.WarnContext(ctx, "Temporal not reachable yet; connecting on first use",
		"address", opts.HostPort, "namespace", opts.Namespace, "error", err)
	return client.NewLazyClient(opts)
}

// EnvList is an Env over "KEY=value" entries, the last one of a key winning as in
// os/exec: the environment a tool gives the processes it starts.
type EnvList []string

// Environ returns the entries.
func (l EnvList) Environ() []string { return l }

// LookupEnv returns the last value of key.
func (l EnvList) LookupEnv(key string) (string, bool) {
	for i := len(l) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(l[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
