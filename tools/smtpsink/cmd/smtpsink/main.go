// Command smtpsink runs a local SMTP server that keeps what it receives in
// memory and shows it over HTTP (see package smtpsink). SMTP_SINK_ADDR
// (default 127.0.0.1:2525) and SMTP_SINK_HTTP_ADDR (default 127.0.0.1:8025)
// choose the addresses.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/plateforme-rome/rome/tools/smtpsink"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := smtpsink.Start(env("SMTP_SINK_ADDR", "127.0.0.1:2525"), env("SMTP_SINK_HTTP_ADDR", "127.0.0.1:8025"))
	if err != nil {
		slog.Error("smtpsink", "error", err)
		os.Exit(1)
	}
	slog.Info("smtpsink listening", "smtp", s.SMTPAddr(), "http", s.HTTPURL())
	<-ctx.Done()
	if err := s.Close(); err != nil {
		slog.Error("smtpsink stop", "error", err)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
