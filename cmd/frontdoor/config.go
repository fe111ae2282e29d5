package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// configCommand edits one configuration file at hand, offline, with the very editor apply uses:
// for hosts frontdoor cannot reach (air-gapped), or a change ticket that needs the exact file.
func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "work on a configuration file at hand, without a host",
		Subcommands: []*cli.Command{{
			Name:      "edit",
			Usage:     "edit a server.xml, bitbucket.properties or Fisheye config.xml as apply would, to stdout or -o",
			ArgsUsage: "FILE",
			Description: "Writes the edited file to stdout (or --output-file), changing only the bytes that must change.\n" +
				"Says on stderr whether it changed anything. Exit status: 0 edited or already right; 1 refused (the reason names the line).",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "product", Required: true, Usage: "jira, confluence, bamboo, bitbucket, fisheye, crucible or crowd"},
				&cli.StringFlag{Name: "url", Required: true, Usage: "the public base `URL`, as url: in a playbook"},
				&cli.IntFlag{Name: "port", Usage: "the app's HTTP `PORT` (default the product's), as port: in a playbook"},
				&cli.BoolFlag{Name: "replace-placeholders", Usage: "overwrite ${...} values (see replace_placeholders: in docs/cli.md)"},
				&cli.StringFlag{Name: "output-file", Aliases: []string{"o"}, Usage: "write the result to `FILE` instead of stdout"},
			},
			Action: configEdit,
		}},
	}
}

func configEdit(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usageErrorf("give exactly one FILE to edit, e.g. frontdoor config edit --product jira --url http://jira.example.com server.xml")
	}
	file := c.Args().First()
	// The flags become a one-app playbook, so they are validated and defaulted exactly as one.
	app := map[string]any{"product": c.String("product"), "url": c.String("url")}
	if c.IsSet("port") {
		app["port"] = c.Int("port")
	}
	doc, _ := yaml.Marshal(map[string]any{"apps": []any{app}, "replace_placeholders": c.Bool("replace-placeholders")})
	pb, err := playbooks.ParsePlaybook("command line", doc)
	if err != nil {
		return usage(err)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return asExit(err)
	}
	edit, err := pb.FileEditor(0, "localhost", strings.HasSuffix(file, ".properties"))
	if err != nil {
		return asExit(err)
	}
	out, err := edit(src)
	if err != nil {
		return &exitErr{exitError, fmt.Errorf("%s: %w", file, err)}
	}
	if bytes.Equal(out, src) {
		fmt.Fprintf(c.App.ErrWriter, "%s: already right, unchanged\n", file)
	} else {
		fmt.Fprintf(c.App.ErrWriter, "%s: edited\n", file)
	}
	if p := c.String("output-file"); p != "" {
		mode := os.FileMode(0o644)
		if st, err := os.Stat(file); err == nil {
			mode = st.Mode().Perm() // a server.xml may hold passwords: keep its mode
		}
		if err := os.WriteFile(filepath.Clean(p), out, mode); err != nil {
			return asExit(err)
		}
		return nil
	}
	w := c.App.Writer
	if sw, ok := w.(safeWriter); ok {
		w = sw.w // the file's exact bytes: stdout is the file here, not a message
	}
	_, err = w.Write(out)
	return err
}
