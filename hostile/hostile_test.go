package hostile

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/steps/apache"
	"github.com/frontdoor-dev/frontdoor/steps/app"
	"github.com/frontdoor-dev/frontdoor/target"
)

// corpus is what an attacker (or an unlucky admin) might put in a host name, a path, a service
// name or a lock owner: quotes of every kind, substitutions, separators, redirections, newlines,
// NUL, Unicode quotes and spaces, traversal, and very long values.
var corpus = []string{
	"plain", "it's", `"dq"`, "`id`", "$(id)", "${IFS}", "$HOME", "a;id", "a&&id", "a||id", "a|id", "a&", "a>/tmp/x", "a</etc/passwd",
	"a\nid", "a\r\nid", "a\x00b", "a\\", `a\'b`, "'", "''", `\'`, "a b", "a\tb", "*", "?", "[a]", "~root", "#c", "!x", "{a,b}",
	"\u2018x\u2019", "\u201cx\u201d", "a\u00a0b", "a\u2028b", "../../etc/passwd", "-rf", "--", "%PATH%", strings.Repeat("A", 65536),
	strings.Repeat("'", 1000), "$'\\x41'", "$((1+1))", "<(id)", ">(id)", "a$IFS;b",
}

// builders are every command builder that takes a value; each returns the command for v.
var builders = map[string]func(v string) string{
	"Quote": func(v string) string { return "echo " + target.Quote(v) },
	"gather script": func(v string) string {
		return distro.Script(distro.Request{Files: []string{"/opt/" + v}, Ports: []int{8080}, Services: []string{v}, Lock: "run=" + v})
	},
	"unlock":        func(v string) string { return distro.UnlockCommand(distro.Debian, v, false) },
	"unlock strict": func(v string) string { return distro.UnlockCommand(distro.Debian, v, true) },
	"systemd service": func(v string) string {
		return (&distro.Facts{Services: map[string]string{v: "systemd"}}).ServiceCommand(v, "restart")
	},
	"sysv service": func(v string) string {
		return (&distro.Facts{Services: map[string]string{v: "sysv"}}).ServiceCommand(v, "start")
	},
	"readiness": func(v string) string { return distro.HTTPReady(8080, v, 10) },
	"mod_md readiness": func(v string) string {
		return apache.MDReady("/var/lib/apache2/md", v, 443, "/var/log/apache2/error.log", 10, false)
	},
	"apache site, module and shadow check": func(v string) string {
		f := &distro.Facts{Family: distro.Debian, Init: "systemd", Apache: distro.Apache{Layout: "debian", Modules: map[string]bool{}, Sites: map[string]bool{}},
			Files: map[string]target.File{}}
		vh := []apache.VHost{{ServerName: v, Port: 80, Backends: []apache.Backend{{Name: "jira", Port: 8080}}}}
		f.Files[apache.SitePath(vh[0])] = target.File{Path: apache.SitePath(vh[0])}
		var cmds []string
		for _, s := range apache.DebianSteps(f, vh) {
			if c, ok := s.(*steps.CommandStep); ok {
				cmds = append(cmds, c.Command, c.Undo)
			}
		}
		svc := apache.DebianService(f, vh)
		return strings.Join(append(cmds, svc.Validate, svc.Restart), "\n")
	},
	"plain site retired for https": func(v string) string {
		vh := []apache.VHost{{ServerName: v, Port: 443, TLS: &apache.TLS{CertFile: "/c.pem", KeyFile: "/k.key"}, Backends: []apache.Backend{{Name: "jira", Port: 8080}}}}
		plain := apache.PlainSite(vh[0])
		f := &distro.Facts{Family: distro.Debian, Init: "systemd", Apache: distro.Apache{Layout: "debian", Modules: map[string]bool{}, Sites: map[string]bool{plain.Site(): true}},
			Files: map[string]target.File{}}
		for _, p := range []string{apache.SitePath(vh[0]), apache.SitePath(plain)} {
			f.Files[p] = target.File{Path: p}
		}
		var cmds []string
		for _, s := range apache.DebianSteps(f, vh) {
			if c, ok := s.(*steps.CommandStep); ok && strings.Contains(c.Label, "site") {
				cmds = append(cmds, c.Command, c.Undo)
			}
		}
		return strings.Join(cmds, "\n")
	},
	"app start script": func(v string) string {
		a := app.App{Product: app.Products["jira"], Name: "jira", Install: "/opt/" + v, Port: 8080}
		s := a.Service(&distro.Facts{Services: map[string]string{}, Listening: map[int]bool{}})
		return s.Start + "\n" + s.Stop
	},
}

// shape is a command's structure: every node but the words' literal and quoted parts, in order.
func shape(t *testing.T, cmd string) (string, *syntax.File) {
	t.Helper()
	f, err := syntax.NewParser().Parse(strings.NewReader(cmd), "")
	if err != nil {
		return "unparsable: " + err.Error(), nil
	}
	var b strings.Builder
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Lit, *syntax.SglQuoted, *syntax.DblQuoted, *syntax.Word, nil:
		case *syntax.CallExpr:
			fmt.Fprintf(&b, "call(%d) ", len(n.Args))
		case *syntax.Redirect:
			fmt.Fprintf(&b, "redirect(%s) ", n.Op)
		default:
			fmt.Fprintf(&b, "%T ", n)
		}
		return true
	})
	return b.String(), f
}

// TestHostileValuesStayData: for every builder and every hostile value, the command parses and
// has exactly the structure it has for a harmless value: no value became a command, a
// substitution, an expansion, a redirection or another argument.
func TestHostileValuesStayData(t *testing.T) {
	for name, build := range builders {
		want, _ := shape(t, build("harmless"))
		for _, v := range corpus {
			if strings.ContainsRune(v, 0) {
				continue // a shell argument cannot hold NUL; the playbook and inventory refuse it where values enter
			}
			if got, _ := shape(t, build(v)); got != want {
				t.Errorf("%s with %.60q: %s", name, v, firstDiff(got, want))
			}
		}
	}
}

// TestQuoteRoundTrips: what the shell makes of a quoted value is the value itself.
func TestQuoteRoundTrips(t *testing.T) {
	for _, v := range corpus {
		if strings.ContainsRune(v, 0) {
			continue
		}
		checkLiteral(t, v)
	}
}

func checkLiteral(t *testing.T, v string) {
	t.Helper()
	if utf8.ValidString(v) { // the parser reads UTF-8; the shell below takes any bytes
		_, f := shape(t, "printf %s "+target.Quote(v))
		if f == nil || len(f.Stmts) != 1 {
			t.Fatalf("%.60q: not one statement", v)
		}
		if call, ok := f.Stmts[0].Cmd.(*syntax.CallExpr); !ok || len(call.Args) != 3 {
			t.Fatalf("%.60q: not one word", v)
		}
	}
	// The judge of what the word means is a real shell.
	out, err := exec.Command("/bin/sh", "-c", "printf %s "+target.Quote(v)).Output()
	if err != nil || string(out) != v {
		t.Fatalf("%.60q: the shell reads %.60q (%v)", v, out, err)
	}
}

// FuzzQuote: any value, quoted, is one word whose value is itself, and the gather script keeps
// its structure with it as a file name, service name and lock owner.
func FuzzQuote(f *testing.F) {
	for _, v := range corpus {
		f.Add(v)
	}
	want, _ := shape(&testing.T{}, builders["gather script"]("harmless"))
	f.Fuzz(func(t *testing.T, v string) {
		if strings.ContainsRune(v, 0) {
			return
		}
		checkLiteral(t, v)
		if !utf8.ValidString(v) {
			return
		}
		if got, _ := shape(t, builders["gather script"](v)); got != want {
			t.Errorf("gather script with %.60q: %s", v, firstDiff(got, want))
		}
	})
}

// firstDiff shows where two shapes part.
func firstDiff(got, want string) string {
	g, w := strings.Fields(got), strings.Fields(want)
	for i := range g {
		if i >= len(w) || g[i] != w[i] {
			lo := max(0, i-3)
			return fmt.Sprintf("structure differs at node %d: got %v, want %v", i, g[lo:min(len(g), i+4)], w[lo:min(len(w), i+4)])
		}
	}
	return fmt.Sprintf("got %d nodes, want %d", len(g), len(w))
}
