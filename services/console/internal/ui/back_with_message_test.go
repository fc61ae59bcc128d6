package ui

import "testing"

func TestBackWithMessage(t *testing.T) {
	for in, want := range map[string]string{
		"/notifications":                "/notifications?message=lue",
		"/notifications?curseur=12":     "/notifications?curseur=12&message=lue",
		"https://evil.example/x":        "/?message=lue",
		"//evil.example/x":              "/?message=lue",
		"/administration?message=autre": "/administration?message=lue",
	} {
		if got := backWithMessage(in, "lue"); got != want {
			t.Errorf("backWithMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
