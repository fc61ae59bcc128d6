package accessreq

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// The purposes of a signed link: a link signed for one does not serve the other.
const (
	purposeVerify = "verify"
	purposeAnswer = "answer"
)

// Links signs and checks the links of the applicant's e-mails: HMAC-SHA256 of the request's
// id, the link's purpose and its expiry. Nothing is stored: the key alone checks them, and
// they stay out of the workflow's history.
type Links struct {
	key []byte
}

// NewLinks returns the signer for key (ACCESS_LINK_KEY, at least 32 bytes).
func NewLinks(key []byte) Links { return Links{key: key} }

// MinKeyLength is the shortest key accepted.
const MinKeyLength = 32

// sign returns the token of a link to request id for purpose, valid until expires.
func (l Links) sign(id, purpose string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 36)
	return exp + "." + base64.RawURLEncoding.EncodeToString(l.mac(id, purpose, exp))
}

func (l Links) mac(id, purpose, exp string) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(id + "\x00" + purpose + "\x00" + exp))
	return m.Sum(nil)
}

// linkState is what checking a token found.
type linkState int

const (
	linkInvalid linkState = iota // not a token of ours for this request and purpose
	linkExpired
	linkValid
)

// check tells whether token is a valid link to request id for purpose at now.
func (l Links) check(id, purpose, token string, now time.Time) linkState {
	exp, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 100 {
		return linkInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, l.mac(id, purpose, exp)) {
		return linkInvalid
	}
	at, err := strconv.ParseInt(exp, 36, 64)
	if err != nil {
		return linkInvalid
	}
	if now.After(time.Unix(at, 0)) {
		return linkExpired
	}
	return linkValid
}
