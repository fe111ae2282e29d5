package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The scripts ask frontdoor itself what comes next (urfave/cli's --generate-bash-completion), so
// they always match the binary: commands, subcommands and each command's flags; file names
// otherwise. The bash one needs neither the bash-completion package nor eval.
const bashCompletion = `# bash completion for frontdoor
# load it with: source <(frontdoor completion bash)
# or install it: frontdoor completion bash > /etc/bash_completion.d/frontdoor
_frontdoor() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local -a words=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
    if [[ $cur == -* ]]; then
        words+=("$cur")
    fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "${words[@]}" --generate-bash-completion 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F _frontdoor frontdoor
`

const zshCompletion = `#compdef frontdoor
# zsh completion for frontdoor
# load it with: source <(frontdoor completion zsh)
# or install it as _frontdoor in a directory of $fpath
_frontdoor() {
    local -a opts
    local cur=${words[-1]}
    if [[ $cur == -* ]]; then
        opts=("${(@f)$(${words[@]:0:#words[@]-1} $cur --generate-bash-completion 2>/dev/null)}")
    else
        opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
    fi
    if [[ -n ${opts[1]} ]]; then
        _describe 'values' opts
    else
        _files
    fi
}
compdef _frontdoor frontdoor
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash:  source <(frontdoor completion bash)   (or save it in /etc/bash_completion.d/frontdoor)\n" +
			"zsh:   source <(frontdoor completion zsh)    (or save it as _frontdoor in a directory of $fpath)\n" +
			"fish:  frontdoor completion fish > ~/.config/fish/completions/frontdoor.fish",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return asExit(err)
				}
				fmt.Fprint(c.App.Writer, s)
			default:
				return usageErrorf("give the shell: frontdoor completion bash, zsh or fish")
			}
			return nil
		},
	}
}

// manCommand prints the man page, generated from the commands and flags themselves;
// docs/frontdoor.1 is its output (scripts/man), kept current by a test.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the man page (roff): frontdoor man | man -l -",
		Hidden: true,
		Action: func(c *cli.Context) error {
			s, err := manPage(c.App)
			if err != nil {
				return asExit(err)
			}
			fmt.Fprint(c.App.Writer, s)
			return nil
		},
	}
}

func manPage(app *cli.App) (string, error) {
	s, err := app.ToManWithSection(1)
	// md2man leaves the markdown's trailing spaces; the page is committed, so none.
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.Join(lines, "\n"), err
}
