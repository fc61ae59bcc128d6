// Command smtpsink runs a local SMTP server that keeps what it receives and
// shows it over HTTP (see package smtpsink). SMTP_SINK_ADDR (default
// 127.0.0.1:2525) and SMTP_SINK_HTTP_ADDR (default 127.0.0.1:8025) choose the
// addresses; SMTP_SINK_MAIL_FILE, when set, is the file that keeps the
// messages across restarts (JSON lines), otherwise they live in memory only.
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
	smtpAddr, httpAddr, mailFile := env("SMTP_SINK_ADDR", "127.0.0.1:2525"), env("SMTP_SINK_HTTP_ADDR", "127.0.0.1:8025"), os.Getenv("SMTP_SINK_MAIL_FILE")
	var s *smtpsink.Sink
	var err error
	if mailFile == "" {
		s, err = smtpsink.Start(smtpAddr, httpAddr)
	} else {
		s, err = smtpsink.StartPersistent(smtpAddr, httpAddr, mailFile)
	}
	if err != nil {
		slog.Error("smtpsink", "error", err)
		os.Exit(1)
	}
	slog.Info("smtpsink listening", "smtp", s.SMTPAddr(), "http", s.HTTPURL(), "mailFile", mailFile, "messages", len(s.Messages()))
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
