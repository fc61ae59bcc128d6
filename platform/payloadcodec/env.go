package payloadcodec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// The variables FromEnv reads.
const (
	EnvKeys      = "TEMPORAL_CODEC_KEYS"
	EnvKeysFile  = "TEMPORAL_CODEC_KEYS_FILE"
	EnvActiveKey = "TEMPORAL_CODEC_ACTIVE_KEY"
)

// FromEnv loads the keys from TEMPORAL_CODEC_KEYS ("id1:base64key,id2:base64key") or from
// the file named by TEMPORAL_CODEC_KEYS_FILE (the same list, entries separated by commas
// or lines, e.g. a mounted Kubernetes secret), never both. TEMPORAL_CODEC_ACTIVE_KEY names
// the key that encrypts; it may be left out when there is a single key. lookup reads a
// variable (os.LookupEnv in the processes). It returns nil, nil when no key is configured.
func FromEnv(lookup func(string) (string, bool)) (*Codec, error) {
	get := func(key string) string {
		v, _ := lookup(key)
		return strings.TrimSpace(v)
	}
	list, file, active := get(EnvKeys), get(EnvKeysFile), get(EnvActiveKey)
	switch {
	case list != "" && file != "":
		return nil, fmt.Errorf("%s and %s are both set: give the keys one way", EnvKeys, EnvKeysFile)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKeysFile, err)
		}
		list = string(b)
	case list == "":
		if active != "" {
			return nil, fmt.Errorf("%s=%s names a key, but no key is given (%s or %s)", EnvActiveKey, active, EnvKeys, EnvKeysFile)
		}
		return nil, nil
	}
	source := EnvKeys
	if file != "" {
		source = EnvKeysFile + " " + file
	}
	keys, order, err := parseKeys(list)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if active == "" {
		if len(order) > 1 {
			return nil, fmt.Errorf("%s: %d keys are given: set %s to the one that encrypts", source, len(order), EnvActiveKey)
		}
		active = order[0]
	}
	c, err := New(keys, active)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return c, nil
}

// parseKeys reads a key list: "id:base64key" entries separated by commas or line breaks,
// each key 32 bytes in standard base64 (openssl rand -base64 32). Blank entries are
// skipped; a repeated id is refused. order lists the ids as given.
func parseKeys(list string) (keys map[string][]byte, order []string, err error) {
	keys = map[string][]byte{}
	entries := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	for _, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, encoded, ok := strings.Cut(entry, ":")
		id = strings.TrimSpace(id)
		if !ok {
			// The entry may be a bare key: never echo it.
			return nil, nil, fmt.Errorf("entry %d is not id:base64key", len(order)+1)
		}
		if err := checkKeyID(id); err != nil {
			return nil, nil, err
		}
		if _, dup := keys[id]; dup {
			return nil, nil, fmt.Errorf("key id %q is given twice", id)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			return nil, nil, fmt.Errorf("key %q is not standard base64", id)
		}
		if len(key) != KeySize {
			return nil, nil, fmt.Errorf("key %q has %d bytes, want %d (openssl rand -base64 32)", id, len(key), KeySize)
		}
		keys[id] = key
		order = append(order, id)
	}
	if len(order) == 0 {
		return nil, nil, errors.New("no key in the list")
	}
	return keys, order, nil
}
