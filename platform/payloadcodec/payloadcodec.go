// Package payloadcodec encrypts Temporal payloads (workflow and activity inputs, results,
// signals, updates, queries, memos) with AES-256-GCM, so that histories kept by the
// Temporal server do not hold people's names, Entra object ids or messages in clear.
//
// Each payload is encrypted whole (its metadata and data) under a fresh random nonce; the
// result is a payload marked encoding "binary/encrypted" that names its key in the
// "encryption-key-id" metadata. Several keys can be loaded for rotation: the active one
// encrypts, every loaded one decrypts. Payloads without the mark are returned as they are,
// so histories written before encryption was turned on still replay.
package payloadcodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	// EncodingEncrypted marks an encrypted payload in its "encoding" metadata.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted a payload.
	MetadataKeyID = "encryption-key-id"
	// KeySize is the length of an AES-256 key in bytes.
	KeySize = 32
	// maxKeyIDLength keeps key ids short: every encrypted payload carries one.
	maxKeyIDLength = 64
)

var (
	// ErrUnknownKey: a payload was encrypted with a key that is not loaded.
	ErrUnknownKey = errors.New("unknown encryption key")
	// ErrUndecryptable: an encrypted payload does not decrypt (tampered, truncated, or
	// encrypted by another key under the same id).
	ErrUndecryptable = errors.New("encrypted payload does not decrypt")
)

// Codec is a converter.PayloadCodec encrypting with its active key and decrypting with
// any of its keys. It is safe for concurrent use.
type Codec struct {
	active string
	aeads  map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New builds a codec from keys (id → 32-byte AES-256 key) that encrypts with the key
// named active.
func New(keys map[string][]byte, active string) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("payload codec: no key")
	}
	c := &Codec{active: active, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if err := checkKeyID(id); err != nil {
			return nil, err
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("payload codec: key %q has %d bytes, want %d (AES-256)", id, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("payload codec: key %q: %w", id, err)
		}
		if c.aeads[id], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("payload codec: key %q: %w", id, err)
		}
	}
	if _, ok := c.aeads[active]; !ok {
		return nil, fmt.Errorf("payload codec: the active key %q is not among the keys (%s)", active, strings.Join(c.KeyIDs(), ", "))
	}
	return c, nil
}

// checkKeyID accepts ids that read well in metadata, logs and the key list syntax.
func checkKeyID(id string) error {
	if id == "" || len(id) > maxKeyIDLength {
		return fmt.Errorf("payload codec: key id %q must hold 1 to %d characters", id, maxKeyIDLength)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("payload codec: key id %q: use letters, digits, '-', '_' and '.' only", id)
		}
	}
	return nil
}

// ActiveKeyID names the key new payloads are encrypted with.
func (c *Codec) ActiveKeyID() string { return c.active }

// KeyIDs lists the loaded keys, sorted.
func (c *Codec) KeyIDs() []string {
	ids := make([]string, 0, len(c.aeads))
	for id := range c.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Encode encrypts each payload with the active key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("payload %d: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("payload %d: nonce: %w", i, err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.active),
			},
			Data: aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts the encrypted payloads and returns the others as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return payloads, fmt.Errorf("payload %d is encrypted with the key %q, which is not loaded (loaded: %s): %w",
				i, id, strings.Join(c.KeyIDs(), ", "), ErrUnknownKey)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("payload %d (key %q) is truncated: %w", i, id, ErrUndecryptable)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], nil)
		if err != nil {
			return payloads, fmt.Errorf("payload %d (key %q) fails authentication: %w", i, id, ErrUndecryptable)
		}
		decoded := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, decoded); err != nil {
			return payloads, fmt.Errorf("payload %d (key %q) holds no payload: %w", i, id, ErrUndecryptable)
		}
		out[i] = decoded
	}
	return out, nil
}
