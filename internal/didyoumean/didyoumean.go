// Package didyoumean finds the word a user probably meant: a mistyped command, flag or key.
package didyoumean

// Closest returns the candidate nearest to word by edit distance (insertions, deletions,
// substitutions and swaps of two adjacent letters, so "prodcut" is one edit from "product"), or
// "" when none is close enough to be a typo: at most 2 edits, and fewer than half of the word.
// Ties go to the candidate first in byte order, so the answer does not depend on the order of
// candidates (callers often collect them from maps).
func Closest(word string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		d := distance(word, c)
		if (d < bestD || d == bestD && c < best) && 2*d < len([]rune(c)) {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	d := make([][]int, len(s)+1)
	for i := range d {
		d[i] = make([]int, len(t)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(s); i++ {
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(s)][len(t)]
}
