package search

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldTable maps the Latin-1 and Latin Extended-A letters (U+00C0–U+017F) to
// their lower-case ASCII spelling. A hand-made table keeps the package free of
// dependencies and makes folding a single array lookup on the query path.
var foldTable = func() (t [0x180 - 0xC0]string) {
	groups := []struct{ from, to string }{
		{"ÀÁÂÃÄÅàáâãäåĀāĂăĄą", "a"}, {"Ææ", "ae"}, {"ÇçĆćĈĉĊċČč", "c"}, {"ĎďĐđÐð", "d"},
		{"ÈÉÊËèéêëĒēĔĕĖėĘęĚě", "e"}, {"ĜĝĞğĠġĢģ", "g"}, {"ĤĥĦħ", "h"},
		{"ÌÍÎÏìíîïĨĩĪīĬĭĮįİı", "i"}, {"Ĳĳ", "ij"}, {"Ĵĵ", "j"}, {"Ķķĸ", "k"},
		{"ĹĺĻļĽľĿŀŁł", "l"}, {"ÑñŃńŅņŇňŉŊŋ", "n"}, {"ÒÓÔÕÖØòóôõöøŌōŎŏŐő", "o"}, {"Œœ", "oe"},
		{"ŔŕŖŗŘř", "r"}, {"ŚśŜŝŞşŠšſ", "s"}, {"ß", "ss"}, {"ŢţŤťŦŧ", "t"}, {"Þþ", "th"},
		{"ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲų", "u"}, {"Ŵŵ", "w"}, {"ÝýÿŶŷŸ", "y"}, {"ŹźŻżŽž", "z"},
	}
	for _, g := range groups {
		for _, r := range g.from {
			t[r-0xC0] = g.to
		}
	}
	return t
}()

// stopWords are ignored for matching. They are removed before positions are
// assigned, so "conducteur engins" is still a phrase of "Conducteur d'engins".
var stopWords = map[string]bool{
	"de": true, "du": true, "des": true, "la": true, "le": true, "les": true, "l": true,
	"d": true, "et": true, "en": true, "a": true, "au": true, "aux": true,
}

// Normalize folds case and accents (é→e, œ→oe, æ→ae, ç→c), drops inclusive-writing
// suffixes glued to a word ("Diplômé(e)" → "diplome"), treats every other
// non-alphanumeric character as a word break and joins the words with single spaces.
func Normalize(s string) string {
	return strings.Join(appendWords(nil, s), " ")
}

// LabelKey is the duplicate-detection key of a label: its " / " alternatives are
// normalised and sorted, so "Boulanger / Boulangère" and "boulangère / boulanger"
// share a key. Official labels write the words shared by a masculine / feminine pair
// once, after the second form ("Développeur / Développeuse informatique"): the key
// spells them out on both, so the other order ("Développeuse / Développeur
// informatique") and the full form get the same key.
func LabelKey(label string) string {
	alts := splitAlternatives(label)
	keys := make([]string, 0, len(alts))
	for _, a := range alts {
		if k := Normalize(a); k != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 2 {
		a, b := strings.Fields(keys[0]), strings.Fields(keys[1])
		if len(a) < len(b) {
			a = append(a, b[len(a):]...)
		} else {
			b = append(b, a[len(b):]...)
		}
		keys[0], keys[1] = strings.Join(a, " "), strings.Join(b, " ")
	}
	slices.Sort(keys)
	return strings.Join(keys, " / ")
}

// splitAlternatives cuts a label at the slashes that separate alternatives
// ("Boulanger / Boulangère"). A slash glued between two words
// ("plastique/caoutchouc") is part of one alternative and only breaks words.
func splitAlternatives(label string) []string {
	var alts []string
	start := 0
	for i := 0; i < len(label); i++ {
		if label[i] != '/' {
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(label[:i])
		after, _ := utf8.DecodeRuneInString(label[i+1:])
		if i == 0 || i == len(label)-1 || unicode.IsSpace(before) || unicode.IsSpace(after) {
			alts = append(alts, label[start:i])
			start = i + 1
		}
	}
	return append(alts, label[start:])
}

// appendWords appends the normalised words of s to dst.
func appendWords(dst []string, s string) []string {
	var arr [64]byte
	word := arr[:0]
	flush := func() {
		if len(word) > 0 {
			dst = append(dst, string(word))
			word = word[:0]
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '(' && len(word) > 0 {
			if n := inclusiveSuffixLen(s[i:]); n > 0 {
				i += n
				continue
			}
		}
		i += size
		switch {
		case r < utf8.RuneSelf:
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
				word = append(word, byte(r))
			case 'A' <= r && r <= 'Z':
				word = append(word, byte(r)+'a'-'A')
			default:
				flush()
			}
		case r >= 0xC0 && r < 0x180 && foldTable[r-0xC0] != "":
			word = append(word, foldTable[r-0xC0]...)
		case unicode.Is(unicode.Mn, r):
			// A combining accent of decomposed input ("e" + U+0301): drop it, stay in the word.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word = utf8.AppendRune(word, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return dst
}

// inclusiveSuffixLen returns the byte length of an inclusive-writing suffix such
// as "(e)", "(s)" or "(rice)" at the start of s (which starts with '('), or 0.
func inclusiveSuffixLen(s string) int {
	const maxLetters = 5
	for i := 1; i < len(s) && i <= maxLetters+1; i++ {
		switch c := s[i]; {
		case c == ')':
			if i > 1 {
				return i + 1
			}
			return 0
		case c < 'a' || c > 'z':
			return 0
		}
	}
	return 0
}

// contentWords returns the normalised words of s without stop words.
func contentWords(s string) []string {
	words := appendWords(nil, s)
	return slices.DeleteFunc(words, func(w string) bool { return stopWords[w] })
}
