package javaref

import (
	"math/rand"
	"os"
	"strconv"
)

// Mutants derives n inputs from seeds, deterministically for a given seed: each is a seed with a
// few random edits (a span deleted, duplicated or moved, a token of dict inserted, a byte
// flipped), so the editors and the reference parsers can be compared on inputs nobody wrote by
// hand, in one JVM. FRONTDOOR_JAVA_MUTANTS (a count) and FRONTDOOR_JAVA_SEED override n and seed
// for a longer or another run.
func Mutants(seeds [][]byte, dict []string, n int, seed int64) [][]byte {
	if v, err := strconv.Atoi(os.Getenv("FRONTDOOR_JAVA_MUTANTS")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.ParseInt(os.Getenv("FRONTDOOR_JAVA_SEED"), 10, 64); err == nil {
		seed = v
	}
	r := rand.New(rand.NewSource(seed))
	out := make([][]byte, 0, n)
	for len(out) < n {
		b := append([]byte(nil), seeds[r.Intn(len(seeds))]...)
		for k := 1 + r.Intn(3); k > 0 && len(b) > 0; k-- {
			i := r.Intn(len(b))
			j := i + r.Intn(min(64, len(b)-i)+1)
			switch r.Intn(5) {
			case 0: // delete a span
				b = append(b[:i], b[j:]...)
			case 1: // duplicate a span
				b = append(b[:j], append(append([]byte(nil), b[i:j]...), b[j:]...)...)
			case 2, 3: // insert a token
				tok := dict[r.Intn(len(dict))]
				b = append(b[:i], append([]byte(tok), b[i:]...)...)
			case 4: // flip a byte to another one of the dictionary's characters
				tok := dict[r.Intn(len(dict))]
				if tok != "" {
					b[i] = tok[r.Intn(len(tok))]
				}
			}
		}
		out = append(out, b)
	}
	return out
}
