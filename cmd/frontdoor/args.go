package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves the options written after a command's arguments before them, so
// `frontdoor rollback RUN -i hosts.ini --limit web1` and `frontdoor plan pb.yaml -i inv.yaml` work
// as they do in ssh, ansible-playbook and terraform (urfave/cli stops reading options at the first
// argument). A value-taking option keeps its value; everything after `--` stays an argument.
func interspersed(app *cli.App, args []string) []string {
	// The shell completion flag must stay last, where urfave/cli looks for it.
	if n := len(args); n > 1 && args[n-1] == "--generate-bash-completion" {
		return append(interspersed(app, args[:n-1]), args[n-1])
	}
	for i := 1; i < len(args); i++ {
		cmd := app.Command(args[i])
		if cmd == nil {
			if strings.HasPrefix(args[i], "-") {
				continue // a global option before the command
			}
			return args
		}
		start := i
		for i+1 < len(args) && cmd.Command(args[i+1]) != nil { // config edit: the subcommand's options
			i++
			cmd = cmd.Command(args[i])
		}
		// A command's own option written before it (frontdoor -v plan, as ansible -v) is the
		// command's: the app has no -v of its own.
		var globals, opts, rest []string
		for _, g := range args[1:start] {
			if hasFlag(cmd, strings.TrimLeft(g, "-")) {
				opts = append(opts, g)
			} else {
				globals = append(globals, g)
			}
		}
		tail := args[i+1:]
		for k := 0; k < len(tail); k++ {
			a := tail[k]
			switch {
			case a == "--":
				rest = append(rest, tail[k:]...)
				k = len(tail)
			case a == "--no-color" && !hasFlag(cmd, "no-color"):
				globals = append(globals, a) // the app's own option, written anywhere
			case junitOutput(cmd, a, tail[k+1:]):
				// --output junit FILE (or --output=junit FILE): the report file as its own option.
				if a == "--output" || a == "-o" {
					k++
				}
				opts = append(opts, "--junit", tail[k+1])
				k++
			case len(a) > 1 && strings.HasPrefix(a, "-"):
				opts = append(opts, a)
				if takesValue(cmd, a) && k+1 < len(tail) {
					k++
					opts = append(opts, tail[k])
				}
			default:
				rest = append(rest, a)
			}
		}
		out := append(append(append([]string{args[0]}, globals...), args[start:i+1]...), opts...)
		return append(out, rest...)
	}
	return args
}

// takesValue says whether option a (as written: -i, --limit, --limit=x) of cmd is followed by its
// value as the next argument.
func takesValue(cmd *cli.Command, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	name := strings.TrimLeft(a, "-")
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

// junitOutput says a is --output junit followed by its FILE, on a command that writes JUnit.
func junitOutput(cmd *cli.Command, a string, next []string) bool {
	if !hasFlag(cmd, "junit") {
		return false
	}
	switch a {
	case "--output", "-o":
		return len(next) >= 2 && next[0] == "junit"
	case "--output=junit", "-o=junit":
		return len(next) >= 1
	}
	return false
}

func hasFlag(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}
