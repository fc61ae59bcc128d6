package search

import (
	"container/heap"
	"math/bits"
	"slices"
	"sort"
	"strings"
)

const (
	// maxQueryRunes truncates pasted text; maxQueryWords bounds the work per query.
	maxQueryRunes = 200
	maxQueryWords = 12
	// minPrefixLen is the shortest last word that is completed as a prefix.
	minPrefixLen = 2
)

// Quality of a query word's match with a label word: exact > prefix > typo.
const (
	exactQuality     = 1.0
	prefixQualityMin = 0.7 // plus up to 0.2 for the typed share of the word
	typo1Quality     = 0.35
	typo2Quality     = 0.2
)

// Weights of the refinements that order hits matching the same number of
// query words. They sum to 1.
const (
	wQuality  = 0.50 // how well the query words matched
	wCoverage = 0.24 // share of the label's words that were matched
	wOrder    = 0.12 // label starts with the first query word; query phrases kept
	wShort    = 0.06 // shorter labels first
	wPrior    = 0.08 // Entry.Boost
)

// Hit is a search result.
type Hit struct {
	ID string
	// Score is in (0,1] and only comparable between hits of one query.
	Score float64
}

type match struct {
	term    int32
	quality float64
}

// rec accumulates how one label matched the query words.
type rec struct {
	doc     int32
	words   int                    // query words with a match (an upper bound of the tier)
	quality [maxQueryWords]float64 // best match quality per query word, 0 if unmatched
	at      [maxQueryWords]uint64  // label word positions matched per query word
}

type scratch struct {
	slot    []int32 // per doc: 1 + its index in recs, 0 when untouched
	recs    []rec
	matches []match
}

// Search returns at most limit hits, best first. Ties are ordered by label,
// then ID. Labels matching more query words always rank above labels matching
// fewer; a query none of whose words match returns no hits, as do an empty
// query and limit ≤ 0.
func (ix *Index) Search(query string, limit int) []Hit {
	if ix == nil || limit <= 0 {
		return nil
	}
	words, lastOpen := queryWords(query)
	if len(words) == 0 {
		return nil
	}
	s := ix.scratch.Get().(*scratch)
	defer ix.release(s)

	for i, w := range words {
		s.matches = ix.expand(s.matches[:0], w, lastOpen && i == len(words)-1)
		for _, m := range s.matches {
			for _, p := range ix.postings[ix.postOff[m.term]:ix.postOff[m.term+1]] {
				r := s.rec(p.doc)
				if r.quality[i] == 0 {
					r.words++
				}
				r.quality[i] = max(r.quality[i], m.quality)
				r.at[i] |= 1 << p.pos
			}
		}
	}

	// Score labels by decreasing number of matched query words: a label with n
	// of them scores below (n+1)/(nq+1), so once the kept hits all reach that,
	// the labels left cannot enter and are skipped.
	top := topK{ix: ix, limit: limit, items: make([]candidate, 0, limit)}
	nq := len(words)
	for n := nq; n > 0; n-- {
		if len(top.items) == limit && top.items[0].score >= float64(n+1)/float64(nq+1) {
			break
		}
		for i := range s.recs {
			if r := &s.recs[i]; r.words == n {
				top.offer(candidate{doc: r.doc, score: ix.score(r, nq)})
			}
		}
	}
	return top.hits()
}

func (s *scratch) rec(doc int32) *rec {
	if k := s.slot[doc]; k > 0 {
		return &s.recs[k-1]
	}
	s.recs = append(s.recs, rec{doc: doc})
	s.slot[doc] = int32(len(s.recs))
	return &s.recs[len(s.recs)-1]
}

func (ix *Index) release(s *scratch) {
	for i := range s.recs {
		s.slot[s.recs[i].doc] = 0
	}
	s.recs = s.recs[:0]
	ix.scratch.Put(s)
}

// queryWords returns the content words of the first maxQueryRunes runes of
// query, at most maxQueryWords of them, and whether the last one ends the
// query and so may be unfinished.
func queryWords(query string) (words []string, lastOpen bool) {
	n := 0
	for i := range query {
		if n == maxQueryRunes {
			query = query[:i]
			break
		}
		n++
	}
	words = contentWords(query)
	if len(words) > maxQueryWords {
		return words[:maxQueryWords], false
	}
	return words, true
}

// expand appends the vocabulary terms that query word w matches: itself, the
// words it starts when it is the last (possibly unfinished) word, and the words
// within its typo budget.
func (ix *Index) expand(dst []match, w string, last bool) []match {
	exact, hasExact := ix.termIDs[w]
	if hasExact {
		dst = append(dst, match{exact, exactQuality})
	}
	completes := last && len(w) >= minPrefixLen
	if completes {
		for t := sort.SearchStrings(ix.terms, w); t < len(ix.terms) && strings.HasPrefix(ix.terms[t], w); t++ {
			if ix.terms[t] != w {
				q := prefixQualityMin + 0.2*float64(len(w))/float64(len(ix.terms[t]))
				dst = append(dst, match{int32(t), q})
			}
		}
	}

	var buf [maxFuzzyLen]rune
	q := buf[:0]
	for _, r := range w {
		if len(q) == maxFuzzyLen {
			return dst
		}
		q = append(q, r)
	}
	budget := typoBudget(len(q))
	if budget == 0 {
		return dst
	}
	mask := letterMask(q)
	for n := max(4, len(q)-budget); n <= min(maxFuzzyLen, len(q)+budget); n++ {
		k := min(budget, typoBudget(n))
		if n-len(q) > k || len(q)-n > k {
			continue
		}
		for _, t := range ix.byLen[n] {
			if (hasExact && t == exact) || !maskAllows(mask, ix.masks[t], k) {
				continue
			}
			if completes && strings.HasPrefix(ix.terms[t], w) {
				continue // already a prefix match, which ranks higher
			}
			if d := osa(q, ix.runes[ix.runeOff[t]:ix.runeOff[t+1]], k); d <= k {
				dst = append(dst, match{t, typoQuality(d)})
			}
		}
	}
	return dst
}

// typoQuality is the quality of a match d ≥ 1 edits away.
func typoQuality(d int) float64 {
	if d == 1 {
		return typo1Quality
	}
	return typo2Quality
}

// score places a label in the tier of the number of query words it matched,
// then refines within the tier: (matched + refinement) / (words + 1), with the
// refinement in [0,1).
func (ix *Index) score(r *rec, nq int) float64 {
	d := &ix.docs[r.doc]
	words := assignWords(r, nq, ^uint64(0))
	matched, quality := 0, 0.0
	for i := range nq {
		if words&(1<<i) != 0 {
			matched++
			quality += r.quality[i]
		}
	}
	quality /= float64(matched)
	fit := 0.0
	for v, seq := range d.readings {
		if len(seq) > 0 {
			// Coverage: the share of the reading's words paired with a query word.
			covered := bits.OnesCount32(assignWords(r, nq, d.masks[v]))
			coverage := float64(covered) / float64(bits.OnesCount64(d.masks[v]))
			fit = max(fit, wCoverage*coverage+wOrder*order(seq, r, nq))
		}
	}
	refinement := wQuality*quality + fit + wShort*d.shortness + wPrior*d.prior
	return (float64(matched) + refinement) / float64(nq+1)
}

// assignWords returns the set of query words that can each be paired with a
// distinct label word among allowed, so that "pate pain" does not fully match
// "Gérer la paie" through one word, nor "co" cover all of "Cour des comptes".
// It is a maximum bipartite matching (Kuhn's algorithm) over at most
// maxQueryWords × maxLabelWords.
func assignWords(r *rec, nq int, allowed uint64) uint32 {
	if nq == 1 {
		if r.at[0]&allowed != 0 {
			return 1
		}
		return 0
	}
	a := assignment{at: &r.at}
	var words uint32
	for i := range nq {
		a.seen = ^allowed
		if a.augment(i) {
			words |= 1 << i
		}
	}
	return words
}

type assignment struct {
	at    *[maxQueryWords]uint64
	owner [maxLabelWords]int8 // 1 + the query word holding each label word, 0 if free
	seen  uint64              // label words tried (or not allowed) in this search
}

// augment finds a label word for query word i, moving other words' words if needed.
func (a *assignment) augment(i int) bool {
	for free := a.at[i] &^ a.seen; free != 0; free &= free - 1 {
		p := bits.TrailingZeros64(free)
		a.seen |= 1 << p
		if a.owner[p] == 0 || a.augment(int(a.owner[p])-1) {
			a.owner[p] = int8(i + 1)
			return true
		}
	}
	return false
}

// order rewards a reading that starts with the first query word and keeps
// consecutive query words next to each other, in order.
func order(v []uint8, r *rec, nq int) float64 {
	hits := 0
	if r.at[0]&(1<<v[0]) != 0 {
		hits++
	}
	for i := 0; i+1 < nq; i++ {
		for j := 0; j+1 < len(v); j++ {
			if r.at[i]&(1<<v[j]) != 0 && r.at[i+1]&(1<<v[j+1]) != 0 {
				hits++
				break
			}
		}
	}
	return float64(hits) / float64(nq)
}

type candidate struct {
	doc   int32
	score float64
}

// topK keeps the limit best candidates in a heap whose root is the worst kept.
type topK struct {
	ix    *Index
	limit int
	items []candidate
}

func (ix *Index) better(a, b candidate) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	da, db := &ix.docs[a.doc], &ix.docs[b.doc]
	if da.label != db.label {
		return da.label < db.label
	}
	if da.id != db.id {
		return da.id < db.id
	}
	return a.doc < b.doc
}

func (t *topK) Len() int           { return len(t.items) }
func (t *topK) Less(i, j int) bool { return t.ix.better(t.items[j], t.items[i]) }
func (t *topK) Swap(i, j int)      { t.items[i], t.items[j] = t.items[j], t.items[i] }
func (t *topK) Push(x any)         { t.items = append(t.items, x.(candidate)) }
func (t *topK) Pop() any {
	last := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	return last
}

func (t *topK) offer(c candidate) {
	switch {
	case len(t.items) < t.limit:
		heap.Push(t, c)
	case t.ix.better(c, t.items[0]):
		t.items[0] = c
		heap.Fix(t, 0)
	}
}

func (t *topK) hits() []Hit {
	if len(t.items) == 0 {
		return nil
	}
	slices.SortFunc(t.items, func(a, b candidate) int {
		switch {
		case t.ix.better(a, b):
			return -1
		case t.ix.better(b, a):
			return 1
		}
		return 0
	})
	hits := make([]Hit, len(t.items))
	for i, c := range t.items {
		hits[i] = Hit{ID: t.ix.docs[c.doc].id, Score: c.score}
	}
	return hits
}
