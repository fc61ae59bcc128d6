package search

import "math/bits"

// maxFuzzyLen bounds the words that take part in typo matching, so the
// distance rows live on the stack.
const maxFuzzyLen = 32

// typoBudget is the number of edits tolerated for a word of n runes.
func typoBudget(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 7:
		return 1
	default:
		return 2
	}
}

// letterMask is the set of characters of a word folded into 64 bits: a-z and
// 0-9 get their own bit, other runes share the rest.
func letterMask(w []rune) uint64 {
	var m uint64
	for _, r := range w {
		switch {
		case 'a' <= r && r <= 'z':
			m |= 1 << (r - 'a')
		case '0' <= r && r <= '9':
			m |= 1 << (26 + r - '0')
		default:
			m |= 1 << (36 + r%28)
		}
	}
	return m
}

// maskAllows is a cheap necessary condition for distance ≤ k: one edit adds
// or removes at most one character from each word's set.
func maskAllows(a, b uint64, k int) bool {
	return bits.OnesCount64(a^b) <= 2*k
}

// osa returns the optimal string alignment distance (Damerau–Levenshtein
// without repeated edits of a substring) between a and b, or k+1 as soon as
// it is known to exceed k. Both words must have at most maxFuzzyLen runes.
// Only the diagonal band of width 2k+1 is computed: a cell further from the
// diagonal is more than k edits away (the typo matching's hot loop).
func osa(a, b []rune, k int) int {
	if d := len(a) - len(b); d > k || -d > k {
		return k + 1
	}
	tooFar := k + 1
	var rows [3][maxFuzzyLen + 1]int
	prev2, prev, cur := rows[0][:len(b)+1], rows[1][:len(b)+1], rows[2][:len(b)+1]
	for j := range prev {
		prev[j] = min(j, tooFar)
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(len(b), i+k)
		// The cells either side of the band read as too far by the next rows.
		cur[lo-1] = tooFar
		if lo == 1 {
			cur[0] = min(i, tooFar)
		}
		if hi < len(b) {
			cur[hi+1] = tooFar
		}
		rowMin := cur[lo-1]
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > k {
			return tooFar
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], tooFar)
}
