package main

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"mvdan.cc/sh/v3/syntax"

	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// docFiles are the documents a reader copies examples from.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) < 5 {
		t.Fatalf("docs: %v %v", files, err)
	}
	return append([]string{"../../README.md"}, files...)
}

var (
	fence      = regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```")
	topLevelPB = regexp.MustCompile(`(?m)^apps:`)
)

// The playbooks printed in README.md and docs/*.md load with the real loader, as printed.
// (Their inventories: playbooks.TestDocsInventoriesLoad.)
func TestDocsPlaybooksLoad(t *testing.T) {
	n := 0
	for _, doc := range docFiles(t) {
		data, _ := os.ReadFile(doc)
		for _, m := range fence.FindAllStringSubmatch(string(data), -1) {
			if m[1] != "yaml" || !topLevelPB.MatchString(m[2]) {
				continue
			}
			p := filepath.Join(t.TempDir(), "playbook.yaml")
			writeTestFile(t, p, m[2])
			if _, err := playbooks.LoadPlaybook(p); err != nil {
				t.Errorf("%s: a playbook example does not load: %v\n%s", doc, err, m[2])
			}
			n++
		}
	}
	if n < 2 {
		t.Fatalf("%d playbook examples found, want at least 2 (README's and docs/cli.md's)", n)
	}
}

// docNegative are commands the docs print as mistakes, to show frontdoor's answer: they must
// stay refused as usage errors.
var docNegative = map[string]bool{
	"frontdoor plann": true,
}

// synopsis marks notation that is not a command as typed: [optional], a|b, ellipses.
var synopsis = regexp.MustCompile(`[\[\]|…]|\.\.\.|<[A-Z]`)

// docCommands are the frontdoor command lines of the docs: lines of code blocks (fenced, not
// yaml/ini/json, and indented) that start with frontdoor (after a "$ " prompt) or run it in
// <(...), and `inline code` that starts with frontdoor. The value says where, and whether it is
// inline (where a bare command name, `frontdoor plan`, is a mention, not a command line).
func docCommands(t *testing.T) map[string]source {
	cmds := map[string]source{}
	for _, doc := range docFiles(t) {
		data, _ := os.ReadFile(doc)
		s := string(data)
		add := func(l string, inline bool) {
			l = strings.TrimPrefix(strings.TrimSpace(l), "$ ")
			if strings.HasPrefix(l, "frontdoor ") || strings.Contains(l, "<(frontdoor ") {
				cmds[l] = source{doc, inline}
			}
		}
		for _, m := range fence.FindAllStringSubmatch(s, -1) {
			if m[1] == "" || m[1] == "sh" || m[1] == "console" || m[1] == "text" {
				for _, l := range strings.Split(m[2], "\n") {
					add(l, false)
				}
			}
		}
		for _, l := range strings.Split(fence.ReplaceAllString(s, ""), "\n") {
			if strings.HasPrefix(l, "    ") {
				add(l, false)
				continue
			}
			// Code spans are the odd pieces between backticks.
			for i, piece := range strings.Split(l, "`") {
				if i%2 == 1 {
					add(piece, true)
				}
			}
		}
	}
	return cmds
}

type source struct {
	where  string
	inline bool // a mention in prose or a message: a bare command name is not checked
}

// adviceEnd ends a command quoted in a message's prose.
var adviceEnd = regexp.MustCompile(`[;)\n]| \(|, |: |\. | before | again| lists | undoes | to `)

// adviceCommands are the frontdoor commands in the string literals of the CLI's own messages
// (explain.go's advice and every other message and help text of cmd/frontdoor), %s and %d
// filled in: "frontdoor" followed by one of its command names, up to where the prose resumes.
func adviceCommands(t *testing.T) map[string]source {
	cmds := map[string]source{}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[sdqv]`)
	app := newApp()
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, part := range strings.Split(s, "frontdoor ")[1:] {
				if w := strings.Fields(part); len(w) == 0 || app.Command(w[0]) == nil {
					continue // prose: "frontdoor detects", "frontdoor YAML"
				}
				if loc := adviceEnd.FindStringIndex(part); loc != nil {
					part = part[:loc[0]]
				}
				cmd := "frontdoor " + strings.TrimRight(verbs.ReplaceAllString(part, "X"), ". ")
				cmds[cmd] = source{fset.Position(lit.Pos()).String(), true}
			}
			return true
		})
	}
	return cmds
}

// parsed is where a command line got to with the real CLI definition and every action replaced:
// the command reached (its full name) and its arguments.
type parsed struct {
	cmd  string
	args []string
}

func parseCLI(args []string) (*parsed, error) {
	app := newApp()
	app.Writer, app.ErrWriter = &strings.Builder{}, &strings.Builder{}
	got := &parsed{}
	var stub func(cmds []*cli.Command, parent string)
	stub = func(cmds []*cli.Command, parent string) {
		for _, c := range cmds {
			name := strings.TrimSpace(parent + " " + c.Name)
			if len(c.Subcommands) > 0 {
				stub(c.Subcommands, name) // keep its action: it refuses an unknown subcommand
				continue
			}
			c.Action = func(ctx *cli.Context) error {
				got.cmd, got.args = name, ctx.Args().Slice()
				return nil
			}
		}
	}
	stub(app.Commands, "")
	err := runCLI(context.Background(), app, append([]string{"frontdoor"}, args...))
	return got, err
}

// frontdoorCalls are the frontdoor invocations of a shell line (after ;, in <(...)), each as its
// words; a word that is not plain text ($RUN) is X.
func frontdoorCalls(line string) ([][]string, error) {
	f, err := syntax.NewParser().Parse(strings.NewReader(line), "")
	if err != nil {
		return nil, err
	}
	var calls [][]string
	syntax.Walk(f, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 || ce.Args[0].Lit() != "frontdoor" {
			return true
		}
		var words []string
		for _, w := range ce.Args[1:] {
			if l := w.Lit(); l != "" {
				words = append(words, l)
			} else if len(w.Parts) == 1 {
				if q, ok := w.Parts[0].(*syntax.SglQuoted); ok {
					words = append(words, q.Value)
					continue
				}
				words = append(words, "X")
			} else {
				words = append(words, "X")
			}
		}
		calls = append(calls, words)
		return true
	})
	return calls, nil
}

// Every frontdoor command printed in README.md, docs/*.md and frontdoor's own messages parses
// with the real CLI definition, options after arguments included: it reaches a command, with no
// option left over as an argument and nothing refused as a usage error.
func TestDocsCommandsParse(t *testing.T) {
	lines := docCommands(t)
	advice := adviceCommands(t)
	for l, src := range advice {
		lines[l] = src
	}
	checked, fromAdvice := 0, 0
	for line, src := range lines {
		where := src.where
		if synopsis.MatchString(line) {
			continue // notation (frontdoor plan -i INVENTORY [flags] PLAYBOOK), not a command as typed
		}
		calls, err := frontdoorCalls(line)
		if err != nil {
			t.Errorf("%s: %q is not a shell command line: %v", where, line, err)
			continue
		}
		for _, args := range calls {
			cmdline := strings.Join(append([]string{"frontdoor"}, args...), " ")
			got, err := parseCLI(args)
			if docNegative[cmdline] {
				if exitCode(err) != exitUsage {
					t.Errorf("%s: %q is printed as a mistake, but is accepted", where, cmdline)
				}
				continue
			}
			if src.inline && (len(args) == 1 || (len(args) == 2 && args[0] == "config")) {
				continue // a mention of the command (`frontdoor plan`), not a command line
			}
			checked++
			if _, ok := advice[line]; ok {
				fromAdvice++
			}
			if err != nil {
				t.Errorf("%s: %q does not parse: exit %d: %v", where, cmdline, exitCode(err), err)
				continue
			}
			if got.cmd == "" && !strings.Contains(cmdline, "--help") && !strings.Contains(cmdline, "--version") {
				t.Errorf("%s: %q reaches no command", where, cmdline)
			}
			for _, a := range got.args {
				if len(a) > 1 && strings.HasPrefix(a, "-") {
					t.Errorf("%s: %q: option %s was read as an argument of %s", where, cmdline, a, got.cmd)
				}
			}
		}
	}
	if checked < 30 || fromAdvice < 8 {
		t.Fatalf("%d commands checked (%d from frontdoor's messages): the extraction found too few", checked, fromAdvice)
	}
	t.Logf("%d commands checked, %d from frontdoor's messages", checked, fromAdvice)
}

// The checker itself: a misplaced or unknown option, an unknown command are caught.
func TestDocsCommandsParseCatches(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "pb.yaml", "-i", "inv", "--forkz", "3"},
		{"rollback", "RUN"}, // -i required
		{"plann", "pb.yaml"},
		{"history", "--diff"},
	} {
		if _, err := parseCLI(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	got, err := parseCLI([]string{"rollback", "R", "-i", "inv", "--limit", "web1"})
	if err != nil || got.cmd != "rollback" || len(got.args) != 1 || got.args[0] != "R" {
		t.Errorf("options after the argument: %+v %v", got, err)
	}
	got, err = parseCLI([]string{"config", "edit", "--product", "jira", "--url", "http://x", "server.xml"})
	if err != nil || got.cmd != "config edit" {
		t.Errorf("config edit: %+v %v", got, err)
	}
	calls, _ := frontdoorCalls("frontdoor history; source <(frontdoor completion bash) # x")
	if len(calls) != 2 || calls[1][0] != "completion" {
		t.Errorf("calls: %v", calls)
	}
}
