// Package search is an in-memory, typo-tolerant search over the French labels
// of the ROME referential (appellations, compétences, savoirs).
//
// An Index is built once per kind and referential version and is immutable
// afterwards, so any number of goroutines may search it at the same time.
package search

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Entry is one label to index.
type Entry struct {
	ID    string
	Label string
	// Boost is a ranking prior in [0,1], e.g. 1 for a principal appellation,
	// 0.5 for a synonym and 0 for a "peu usité" one. It only separates near-ties.
	Boost float64
}

// maxLabelWords bounds the distinct words of a label that can be matched, so
// a label's matched words fit in a uint64.
const maxLabelWords = 64

// Index answers Search over the entries given to Build.
type Index struct {
	terms   []string // sorted vocabulary; a term's id is its position
	termIDs map[string]int32

	// Typo matching: the runes of term t are runes[runeOff[t]:runeOff[t+1]].
	runes   []rune
	runeOff []int32
	masks   []uint64
	byLen   [maxFuzzyLen + 1][]int32 // ids of the terms of each rune length (≥ 4)

	// The postings of term t are postings[postOff[t]:postOff[t+1]], ordered by doc.
	postOff  []int32
	postings []posting

	docs    []doc
	scratch sync.Pool // *scratch, sized for docs
}

type posting struct {
	doc int32
	pos uint8 // the term's position among its label's distinct words
}

type doc struct {
	id, label string
	prior     float64 // Boost clamped to [0,1]
	shortness float64 // in (0,1], higher for shorter labels
	// The label's readings as sequences of word positions: "Conducteur /
	// Conductrice d'engins" reads "conducteur engins" and "conductrice engins".
	readings [2][]uint8
	masks    [2]uint64 // the set of word positions of each reading
}

// Build indexes entries. It keeps no reference to the slice.
func Build(entries []Entry) *Index {
	ix := &Index{docs: make([]doc, len(entries))}
	provisional := map[string]int32{}
	var vocab []string
	// docWords[wordOff[i]:wordOff[i+1]] are the provisional term ids of doc i's positions.
	var docWords []int32
	wordOff := make([]int32, 1, len(entries)+1)

	for i, e := range entries {
		d := &ix.docs[i]
		d.id, d.label = e.ID, e.Label
		d.prior = clamp01(e.Boost)
		d.shortness = 24 / (24 + float64(utf8.RuneCountInString(e.Label)))

		start := len(docWords)
		readingWords := readLabel(e.Label)
		seqLen := 0
		for _, r := range readingWords {
			seqLen += len(r)
		}
		seqs := make([]uint8, 0, seqLen)
		for v, words := range readingWords {
			from := len(seqs)
			for _, w := range words {
				id, ok := provisional[w]
				if !ok {
					id = int32(len(vocab))
					provisional[w] = id
					vocab = append(vocab, w)
				}
				pos := slices.Index(docWords[start:], id)
				if pos < 0 {
					if len(docWords)-start == maxLabelWords {
						continue
					}
					pos = len(docWords) - start
					docWords = append(docWords, id)
				}
				seqs = append(seqs, uint8(pos))
				d.masks[v] |= 1 << pos
			}
			d.readings[v] = seqs[from:len(seqs):len(seqs)]
		}
		wordOff = append(wordOff, int32(len(docWords)))
	}

	// Number terms in sorted order so that a prefix is a contiguous id range.
	order := make([]int32, len(vocab))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(vocab[a], vocab[b]) })
	renum := make([]int32, len(vocab))
	ix.terms = make([]string, len(vocab))
	for id, old := range order {
		renum[old] = int32(id)
		ix.terms[id] = vocab[old]
	}
	for w, old := range provisional {
		provisional[w] = renum[old]
	}
	ix.termIDs = provisional

	ix.runeOff = make([]int32, 1, len(ix.terms)+1)
	ix.masks = make([]uint64, len(ix.terms))
	for id, t := range ix.terms {
		from := len(ix.runes)
		for _, r := range t {
			ix.runes = append(ix.runes, r)
		}
		ix.runeOff = append(ix.runeOff, int32(len(ix.runes)))
		w := ix.runes[from:]
		ix.masks[id] = letterMask(w)
		if n := len(w); n >= 4 && n <= maxFuzzyLen {
			ix.byLen[n] = append(ix.byLen[n], int32(id))
		}
	}

	ix.postOff = make([]int32, len(ix.terms)+1)
	for i, old := range docWords {
		docWords[i] = renum[old]
		ix.postOff[docWords[i]+1]++
	}
	for t := range ix.terms {
		ix.postOff[t+1] += ix.postOff[t]
	}
	ix.postings = make([]posting, len(docWords))
	next := slices.Clone(ix.postOff[:len(ix.terms)])
	for d := range ix.docs {
		for pos, t := range docWords[wordOff[d]:wordOff[d+1]] {
			ix.postings[next[t]] = posting{doc: int32(d), pos: uint8(pos)}
			next[t]++
		}
	}

	ix.scratch.New = func() any { return &scratch{slot: make([]int32, len(ix.docs))} }
	return ix
}

// readLabel returns the content words of each reading of a label. A label
// "A / B" names a masculine and a feminine form that share a tail written only
// once: "Conducteur / Conductrice d'engins agricoles" and "Artiste Plasticien /
// Plasticienne". Other labels have a single reading.
func readLabel(label string) [][]string {
	alts := splitAlternatives(label)
	if len(alts) != 2 {
		return [][]string{contentWords(label)}
	}
	a, b := contentWords(alts[0]), contentWords(alts[1])
	if len(a) == 0 || len(b) == 0 {
		return [][]string{append(a, b...)}
	}
	// b[0] is the feminine of a[j]; a[:j] is a shared head, b[len(a)-j:] a shared tail.
	j := pairedWord(a, b)
	masc := append(a[:len(a):len(a)], b[min(len(a)-j, len(b)):]...)
	fem := append(a[:j:j], b...)
	if slices.Equal(masc, fem) {
		return [][]string{masc}
	}
	return [][]string{masc, fem}
}

// pairedWord returns the index of the word of a whose feminine starts b: the one
// sharing the longest prefix (at least 3 bytes) with b[0]. Without such a word,
// a shorter b is aligned on the end of a ("Responsable expédition / Livraison").
func pairedWord(a, b []string) int {
	best, bestLen := -1, 2
	for i, w := range a {
		if n := commonPrefixLen(w, b[0]); n > bestLen {
			best, bestLen = i, n
		}
	}
	switch {
	case best >= 0:
		return best
	case len(b) < len(a):
		return len(a) - len(b)
	default:
		return 0
	}
}

func commonPrefixLen(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func clamp01(x float64) float64 {
	if !(x > 0) { // also maps NaN to 0
		return 0
	}
	return min(x, 1)
}
