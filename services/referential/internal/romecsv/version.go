package romecsv

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// VersionInfo is what version.txt says about a release.
type VersionInfo struct {
	Number      int
	Label       string // "Titre/commentaire"
	PublishedAt time.Time
	ValidatedAt time.Time
	Raw         string // the whole file, kept for the export
}

// ParseVersion reads the "Clé : valeur" lines of version.txt.
func ParseVersion(raw []byte) (VersionInfo, error) {
	v := VersionInfo{Raw: string(raw)}
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		k, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, seen := fields[k]; !seen {
			fields[k] = strings.TrimSpace(val)
		}
	}
	n, err := strconv.Atoi(fields["Numero de version"])
	if err != nil || n <= 0 {
		return v, &Error{File: "version.txt", Column: "Numero de version", Msg: fmt.Sprintf("not a version number: %q", fields["Numero de version"])}
	}
	v.Number = n
	v.Label = fields["Titre/commentaire"]
	for key, dst := range map[string]*time.Time{"Date de publication": &v.PublishedAt, "Date de validation": &v.ValidatedAt} {
		s, ok := fields[key]
		if !ok || s == "" {
			continue
		}
		t, err := time.Parse("02/01/2006", s)
		if err != nil {
			return v, &Error{File: "version.txt", Column: key, Msg: fmt.Sprintf("not a dd/mm/yyyy date: %q", s)}
		}
		*dst = t
	}
	return v, nil
}

// FormatVersion writes a version.txt for a version produced by this platform.
func FormatVersion(v VersionInfo) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Numero de version : %d\n\n", v.Number)
	fmt.Fprintf(&b, "Date de publication : %s\n\n", v.PublishedAt.Format("02/01/2006"))
	if !v.ValidatedAt.IsZero() {
		fmt.Fprintf(&b, "Date de validation : %s\n\n", v.ValidatedAt.Format("02/01/2006"))
	}
	fmt.Fprintf(&b, "Titre/commentaire : %s\n", v.Label)
	return b.Bytes()
}
