package main

import (
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
)

// PUBLICATION_MODE is immediate unless set; a value that is not a mode stops the start.
func TestPublicationMode(t *testing.T) {
	for value, want := range map[string]string{
		"":               refclient.PublicationImmediate,
		"immediate":      refclient.PublicationImmediate,
		"release_trains": refclient.PublicationReleaseTrains,
	} {
		t.Setenv("PUBLICATION_MODE", value)
		if got, err := publicationMode(); err != nil || got != want {
			t.Errorf("PUBLICATION_MODE=%q: %q %v, want %q", value, got, err, want)
		}
	}
	t.Setenv("PUBLICATION_MODE", "weekly")
	if _, err := publicationMode(); err == nil || !strings.Contains(err.Error(), `PUBLICATION_MODE="weekly"`) || !strings.Contains(err.Error(), "release_trains") {
		t.Errorf("an unknown mode: %v", err)
	}
}
