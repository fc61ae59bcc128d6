package ui

import "net/url"

// backWithMessage is a local return address with the confirmation to show there.
func backWithMessage(target, message string) string {
	u, err := url.Parse(localPath(target))
	if err != nil {
		return "/?message=" + url.QueryEscape(message)
	}
	q := u.Query()
	q.Set("message", message)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}
