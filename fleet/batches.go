package fleet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a host count or a percentage of the hosts it applies to.
type Size struct {
	N       int
	Percent bool
}

func (s Size) String() string {
	if s.Percent {
		return strconv.Itoa(s.N) + "%"
	}
	return strconv.Itoa(s.N)
}

// ParseSize reads "3" or "25%".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	n, err := strconv.Atoi(strings.TrimSuffix(t, "%"))
	if err != nil || n < 0 || (pct && n > 100) {
		return Size{}, fmt.Errorf("%q: write a host count (2) or a percentage (25%%)", s)
	}
	return Size{N: n, Percent: pct}, nil
}

// ParseSerial reads --serial: one size, or a list whose last size repeats ("1,10%,100%").
func ParseSerial(s string) ([]Size, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Size
	for _, f := range strings.Split(s, ",") {
		sz, err := ParseSize(f)
		if err != nil {
			return nil, err
		}
		if sz.N == 0 {
			return nil, fmt.Errorf("%q: a batch of 0 hosts would never end", f)
		}
		out = append(out, sz)
	}
	return out, nil
}

// Batches splits n hosts into batches: each size in turn, the last one repeating; a percentage
// is of all n hosts, rounded down but at least 1 (as Ansible's serial). No sizes: one batch.
func Batches(n int, sizes []Size) []int {
	if n == 0 {
		return nil
	}
	if len(sizes) == 0 {
		return []int{n}
	}
	var out []int
	for left, i := n, 0; left > 0; i++ {
		sz := sizes[min(i, len(sizes)-1)]
		k := sz.N
		if sz.Percent {
			k = max(1, int(math.Floor(float64(n)*float64(sz.N)/100)))
		}
		k = min(k, left)
		out = append(out, k)
		left -= k
	}
	return out
}

// Exceeded says whether failed hosts of a batch of size hosts go over the threshold: more than N
// hosts, or more than N% of the batch (so 25% of 2 hosts tolerates none).
func (s Size) Exceeded(failed, size int) bool {
	if s.Percent {
		return float64(failed)*100 > float64(s.N)*float64(size)
	}
	return failed > s.N
}
