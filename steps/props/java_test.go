package props

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/javaref"
)

// frontdoor's .properties reading and editing checked against java.util.Properties
// (testdata/java/PropsView.java): every key and value of every fixture and odd case read the
// same, and after Set the JDK sees the keys set and every other key unchanged.

// goProps is frontdoor's reading of src in PropsView's format (the last of repeated keys wins,
// as in Java).
func goProps(src []byte) []string {
	m := map[string]string{}
	for _, e := range parse(src) {
		m[e.key] = Value(e.valueRaw)
	}
	var out []string
	for k, v := range m {
		out = append(out, javaQuote(k)+"="+javaQuote(v))
	}
	sort.Slice(out, func(i, j int) bool { return keyOf(out[i]) < keyOf(out[j]) })
	return out
}

// sorted joins lines in one order for both sides (Java sorts keys by UTF-16, the lines here are
// escaped), so only the content is compared.
func sorted(lines []string) string {
	return strings.Join(slices.Sorted(slices.Values(lines)), "\n")
}

func keyOf(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' {
			i++
		} else if line[i] == '=' {
			return line[:i]
		}
	}
	return line
}

func javaQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\\' || c == '=':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, "\\u%04x", c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func TestAgainstJavaProperties(t *testing.T) {
	dir := t.TempDir()
	odd := map[string]string{
		"unicode.properties":      "server.proxy\\u002dname=jira\\u002eexample.com\nplain=caf\\u00e9\n",
		"continuation.properties": "a=one\\\n    two\\\n\tthree\nb = x\n",
		"comment.properties":      "# ends in a backslash \\\nc=visible\n! also \\\nd=too\n",
		"separators.properties":   "e f\ng:h\ni\t=\tj\nk\n",
		"escaped-key.properties":  "l\\ m=n\no\\=p=q\n",
		"crlf.properties":         "r=s\r\nt=u\\\r\n  v\r\n",
		"latin1.properties":       "w=caf\xe9\n",
		"bad-unicode.properties":  "x=\\u00g9\n",
		// Found by the mutants: a continuation inside a key, and an empty line continued into a
		// comment (java.util.Properties starts the logical line afresh there).
		"continued-key.properties":      "ab\\\n    cd=e\n",
		"empty-continuation.properties": "a=b\n\\\n# c \\\nd=e\n",
	}
	files := fixtures(t)
	for _, name := range slices.Sorted(maps.Keys(odd)) { // in order: the mutants derive from them
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(odd[name]), 0o644)
		files = append(files, p)
	}
	if edited := againstJava(t, dir, files, true); edited < 8 {
		t.Fatalf("only %d files edited", edited)
	}
}

// TestMutantsAgainstJavaProperties: the same comparison on 1000 files derived from the fixtures
// and the odd files by random edits with the format's own characters (javaref.Mutants;
// FRONTDOOR_JAVA_MUTANTS and FRONTDOOR_JAVA_SEED for a longer or another run), java.util.Properties
// as the oracle.
func TestMutantsAgainstJavaProperties(t *testing.T) {
	dir := t.TempDir()
	var seeds [][]byte
	for _, f := range fixtures(t) {
		b, _ := os.ReadFile(f)
		seeds = append(seeds, b)
	}
	seeds = append(seeds, []byte("server.proxy\\u002dname=jira\\u002eexample.com\na=one\\\n    two\n# c \\\nd=e\n"))
	dict := []string{"\\", "\n", "\r", "\r\n", "\\\n", "\\u00e9", "\\u", "\\u12", "=", ":", " ", "\t", "\f", "#", "!", "\xe9", "\xc3\xa9",
		"server.proxy-name=x", "server.context-path=/y", "server.proxy-name", "\\ ", "\\=", "\\:", "\\t", "\\n"}
	var files []string
	for i, m := range javaref.Mutants(seeds, dict, 1000, 1) {
		p := filepath.Join(dir, fmt.Sprintf("mutant-%04d.properties", i))
		if err := os.WriteFile(p, m, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	if edited := againstJava(t, dir, files, false); edited < 100 {
		t.Fatalf("only %d mutants edited", edited)
	}
}

// againstJava reads files with frontdoor's reader and java.util.Properties (the same keys and
// values), sets the Bitbucket keys with Set, and has Java read each edit (those keys set, every
// other key the same). It returns how many files were edited.
//
// strict: every file must also be read the same; otherwise (generated files) a file frontdoor
// refuses to edit need not be read the same, but one the JDK refuses must be refused.
func againstJava(t *testing.T, dir string, files []string, strict bool) int {
	t.Helper()
	pairs := []Pair{{Key: "server.context-path", Value: "/bitbucket"}, {Key: "server.proxy-name", Value: "example.com"}, {Key: "server.proxy-port", Value: "443"}}
	edited := map[string]string{}
	all := append([]string(nil), files...)
	for _, f := range files {
		src, _ := os.ReadFile(f)
		if out, err := Set(src, pairs); err == nil {
			p := filepath.Join(dir, "edited-"+filepath.Base(f))
			os.WriteFile(p, out, 0o644)
			edited[f] = p
			all = append(all, p)
		}
	}
	views := javaref.Run(t, filepath.Join("testdata", "java", "PropsView.java"), all)
	for _, f := range files {
		src, _ := os.ReadFile(f)
		e, ok := edited[f]
		javaRefuses := len(views[f]) == 1 && strings.HasPrefix(views[f][0], "error: ")
		if javaRefuses && ok {
			t.Errorf("%s: the JDK refuses it (%s), frontdoor does not", filepath.Base(f), views[f][0])
			continue
		}
		if javaRefuses || (!ok && !strict) {
			continue
		}
		if got, want := sorted(goProps(src)), sorted(views[f]); got != want {
			t.Errorf("%s: frontdoor reads\n%s\nthe JDK reads\n%s", filepath.Base(f), got, want)
		}
		if !ok {
			continue
		}
		want := map[string]string{}
		for _, line := range views[f] {
			want[keyOf(line)] = line
		}
		for _, p := range pairs {
			want[javaQuote(p.Key)] = javaQuote(p.Key) + "=" + javaQuote(p.Value)
		}
		var w []string
		for _, v := range want {
			w = append(w, v)
		}
		sort.Slice(w, func(i, j int) bool { return keyOf(w[i]) < keyOf(w[j]) })
		if got := sorted(views[e]); got != sorted(w) {
			t.Errorf("%s: after the edit the JDK reads\n%s\nwant\n%s", filepath.Base(f), got, sorted(w))
		}
	}
	return len(edited)
}
