package props

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var proxied = []Pair{
	{"server.context-path", "/bitbucket"},
	{"server.proxy-name", "bitbucket.example.com"},
	{"server.proxy-port", "80"},
	{"server.scheme", "http"},
	{"server.secure", "false"},
}

func fixtures(t testing.TB) []string {
	var files []string
	for _, g := range []string{"bitbucket-properties/*", "properties-misc/*"} {
		m, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "fixtures", g))
		files = append(files, m...)
	}
	if len(files) < 6 {
		t.Fatalf("properties fixtures missing: %v", files)
	}
	return files
}

// TestGolden sets the proxy keys on every real properties file; the diff is the golden file.
func TestGolden(t *testing.T) {
	for _, f := range fixtures(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Set(src, proxied)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range proxied {
				if v, ok := Get(out, p.Key); !ok || v != p.Value {
					t.Errorf("%s = %q, %v after Set", p.Key, v, ok)
				}
			}
			if again, _ := Set(out, proxied); !bytes.Equal(again, out) {
				t.Error("second Set changed the file")
			}
			if bytes.HasSuffix(src, []byte("\n")) != bytes.HasSuffix(out, []byte("\n")) {
				t.Error("final newline (or its absence) not kept")
			}
			if bytes.Contains(src, []byte("\r\n")) && bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
				t.Error("CRLF file got a bare LF")
			}
			got := udiff.Unified("a/"+name, "b/"+name, string(src), string(out))
			golden := filepath.Join("testdata", "golden", name+".diff")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("diff differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestSemantics(t *testing.T) {
	src := "# server.proxy-name=old.commented\n" +
		"server.proxy-name = first\n" +
		"other : a\\\n    continued\n" +
		"server.proxy-name=last\n" +
		"  ! also a comment\n" +
		"path=C:\\\\dir"
	out, err := Set([]byte(src), []Pair{{"server.proxy-name", "new.example.com"}, {"other", "acontinued"}, {"added", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "# server.proxy-name=old.commented\n" +
		"server.proxy-name = first\n" + // not the one Java keeps: untouched
		"other : a\\\n    continued\n" + // already means "acontinued"
		"server.proxy-name=new.example.com\n" +
		"  ! also a comment\n" +
		"path=C:\\\\dir\nadded=x"
	if string(out) != want {
		t.Errorf("got:\n%q\nwant:\n%q", out, want)
	}
	if v, _ := Get([]byte(src), "path"); v != `C:\dir` {
		t.Errorf("escapes: %q", v)
	}
	if _, err := Set([]byte(""), []Pair{{"a", "x\ny"}}); err == nil {
		t.Error("a newline in a value must be refused")
	}
}

// FuzzSet: set twice = set once; the keys read back; lines not set are untouched.
func FuzzSet(f *testing.F) {
	for _, file := range fixtures(f) {
		b, _ := os.ReadFile(file)
		f.Add(b, "server.proxy-name", "h.example.com")
	}
	f.Add([]byte("a=\\\n\\\nb"), "a", " lead")
	f.Fuzz(func(t *testing.T, src []byte, key, value string) {
		pairs := []Pair{{key, value}}
		out, err := Set(src, pairs)
		if err != nil {
			return
		}
		if v, ok := Get(out, key); !ok || v != value {
			t.Fatalf("Get(%q) = %q %v, want %q", key, v, ok, value)
		}
		again, err := Set(out, pairs)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("set twice != set once: %v", err)
		}
		// Every other key keeps its value.
		for _, e := range parse(src) {
			if e.key == key {
				continue
			}
			if v, _ := Get(out, e.key); v != Value(e.raw) && lastOf(src, e.key) == e.raw {
				t.Fatalf("key %q changed from %q to %q", e.key, Value(e.raw), v)
			}
		}
	})
}

func lastOf(src []byte, key string) string {
	es := parse(src)
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].key == key {
			return es[i].raw
		}
	}
	return ""
}

// As java.util.Properties reads them (issue 12): \uXXXX escapes in values and keys, and a comment
// that ends in a backslash does not swallow the next line.
func TestPropertiesAsJavaReadsThem(t *testing.T) {
	right := "server.proxy-name=jira\\u002eexample.com\n"
	if out, err := Set([]byte(right), []Pair{{Key: "server.proxy-name", Value: "jira.example.com"}}); err != nil || string(out) != right {
		t.Errorf("an escaped but right value was rewritten: %q %v", out, err)
	}
	escapedKey := "server.proxy\\u002dname=old.example.com\n"
	out, err := Set([]byte(escapedKey), []Pair{{Key: "server.proxy-name", Value: "jira.example.com"}})
	if err != nil || strings.Count(string(out), "name=") != 1 || !strings.Contains(string(out), "=jira.example.com") {
		t.Errorf("escaped key: %q %v", out, err)
	}
	comment := "# a comment that ends in a backslash \\\nserver.proxy-name=jira.example.com\n"
	if v, ok := Get([]byte(comment), "server.proxy-name"); !ok || v != "jira.example.com" {
		t.Errorf("the line after a comment ending in '\\' was swallowed: %q %v", v, ok)
	}
}

// What the generated files found (TestMutantsAgainstJavaProperties), pinned without a JDK.
func TestReadsLikeJavaProperties(t *testing.T) {
	if v, ok := Get([]byte("ab\\\n    cd=e\n"), "abcd"); !ok || v != "e" {
		t.Errorf("a continuation inside a key: %q %v", v, ok)
	}
	if v, ok := Get([]byte("a=b\n\\\n# c \\\nd=e\n"), "d"); !ok || v != "e" {
		t.Errorf("an empty line continued into a comment: %q %v", v, ok)
	}
	if _, err := Set([]byte("x=\\u00g9\n"), []Pair{{Key: "server.proxy-name", Value: "a"}}); err == nil || !strings.Contains(err.Error(), `line 1: "\\u00g9" is not a \uXXXX escape`) {
		t.Errorf("a malformed \\u escape: %v", err)
	}
}
