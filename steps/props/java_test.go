package props

import (
	"fmt"
	"os"
	"path/filepath"
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
		m[e.key] = Value(e.raw)
	}
	var out []string
	for k, v := range m {
		out = append(out, javaQuote(k)+"="+javaQuote(v))
	}
	sort.Slice(out, func(i, j int) bool { return keyOf(out[i]) < keyOf(out[j]) })
	return out
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
	}
	files := fixtures(t)
	for name, content := range odd {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		files = append(files, p)
	}
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
		if got, want := strings.Join(goProps(src), "\n"), strings.Join(views[f], "\n"); got != want {
			t.Errorf("%s: frontdoor reads\n%s\nthe JDK reads\n%s", filepath.Base(f), got, want)
		}
		e, ok := edited[f]
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
		if got := strings.Join(views[e], "\n"); got != strings.Join(w, "\n") {
			t.Errorf("%s: after the edit the JDK reads\n%s\nwant\n%s", filepath.Base(f), got, strings.Join(w, "\n"))
		}
	}
	if len(edited) < 8 {
		t.Fatalf("only %d files edited", len(edited))
	}
}
