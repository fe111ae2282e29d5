package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
	"github.com/frontdoor-dev/frontdoor/playbooks"
)

// The --output json documents of plan, facts, history and show: one JSON document each (they
// print a finished answer, unlike apply's stream of events), version "v" 1, described in
// docs/events.md.

// writeJSON writes one document, indented, with < > & as they are (diffs hold XML).
func writeJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

type factsDoc struct {
	V       int         `json:"v"`
	Command string      `json:"command"`
	Hosts   []factsHost `json:"hosts"`
}

type factsHost struct {
	Host        string       `json:"host"`
	Address     string       `json:"address"`
	Platform    string       `json:"platform,omitempty"`
	Family      string       `json:"family,omitempty"`
	OS          *factsOS     `json:"os,omitempty"`
	Kernel      string       `json:"kernel,omitempty"`
	Init        string       `json:"init,omitempty"`
	LoginUID    *int         `json:"login_uid,omitempty"`
	SFTPServer  string       `json:"sftp_server,omitempty"`
	Apache      *factsApache `json:"apache,omitempty"`
	Files       []factsFile  `json:"files,omitempty"`
	Listening   []int        `json:"listening,omitempty"`
	Served      []string     `json:"served_certificates,omitempty"`
	Supported   bool         `json:"supported"`
	Unsupported string       `json:"unsupported,omitempty"`
	Error       string       `json:"error,omitempty"`
}

type factsOS struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

type factsApache struct {
	Layout       string   `json:"layout"`
	Running      bool     `json:"running"`
	Version      string   `json:"version,omitempty"`
	ProxyModules []string `json:"proxy_modules"`
}

type factsFile struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists"`
	Mode   string `json:"mode,omitempty"` // octal, 0644
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Bytes  int    `json:"bytes"`
}

// factsOf is describe's content as data; file contents are not included (they may hold secrets).
func factsOf(h *playbooks.Host, f *distro.Facts) factsHost {
	out := factsHost{Host: h.Name, Address: h.Address, Platform: f.Describe(), Family: string(f.Family)}
	if err := f.Supported(); err != nil {
		out.Unsupported = err.Error()
	} else {
		out.Supported = true
	}
	if f.Family == distro.Windows {
		return out
	}
	uid := f.UID
	out.OS, out.Kernel, out.Init, out.LoginUID, out.SFTPServer = &factsOS{ID: f.OS.ID, Version: f.OS.VersionID}, f.Kernel, f.Init, &uid, f.SFTPServer
	a := &factsApache{Layout: f.Apache.Layout, Running: f.Apache.Running, Version: f.Apache.Version, ProxyModules: []string{}}
	for _, m := range []string{"proxy", "proxy_http", "proxy_wstunnel", "rewrite", "remoteip"} {
		if f.Apache.Modules[m] {
			a.ProxyModules = append(a.ProxyModules, m)
		}
	}
	out.Apache = a
	for _, p := range slices.Sorted(maps.Keys(f.Files)) {
		file := f.Files[p]
		ff := factsFile{Path: p, Exists: file.Exists, UID: file.UID, GID: file.GID, Bytes: len(file.Data)}
		if file.Exists {
			ff.Mode = fmt.Sprintf("%04o", uint32(file.Mode.Perm()))
		}
		out.Files = append(out.Files, ff)
	}
	out.Listening = slices.Sorted(maps.Keys(f.Listening))
	return out
}

type historyDoc struct {
	V       int      `json:"v"`
	Command string   `json:"command"`
	Runs    []runDoc `json:"runs"`
}

type runDoc struct {
	Run            string        `json:"run"`
	Command        string        `json:"command"`
	Status         string        `json:"status"`
	Started        time.Time     `json:"started"`
	Ended          *time.Time    `json:"ended,omitempty"`
	Playbook       string        `json:"playbook,omitempty"`
	PlaybookSHA256 string        `json:"playbook_sha256,omitempty"`
	Undoes         string        `json:"undoes,omitempty"`
	Inventory      string        `json:"inventory,omitempty"`
	Controller     string        `json:"controller,omitempty"`
	Flags          []string      `json:"flags,omitempty"`
	Counts         *fleet.Counts `json:"counts,omitempty"`
	ExitCode       *int          `json:"exit_code,omitempty"`
	Message        string        `json:"message,omitempty"`
	RetryFile      string        `json:"retry_file,omitempty"`
}

func runOf(r ledger.Run) runDoc {
	d := runDoc{Run: r.ID, Command: r.Command, Status: runStatus(r), Started: r.Started.UTC(), Playbook: r.Playbook, PlaybookSHA256: r.PlaybookSHA256,
		Undoes: r.Undoes, Inventory: r.Inventory, Controller: r.Controller, Flags: r.Flags, ExitCode: r.ExitCode, Message: r.Message, RetryFile: r.RetryFile}
	if !r.Ended.IsZero() {
		e := r.Ended.UTC()
		d.Ended = &e
	}
	if r.Status != "running" {
		c := r.Counts
		d.Counts = &c
	}
	return d
}

type showDoc struct {
	V       int           `json:"v"`
	Command string        `json:"command"`
	Run     runDoc        `json:"run"`
	Hosts   []showHost    `json:"hosts"`
	Events  []fleet.Event `json:"events,omitempty"`
}

type showHost struct {
	Host       string         `json:"host"`
	Batch      int            `json:"batch,omitempty"`
	Status     string         `json:"status"`
	RolledBack bool           `json:"rolled_back"`
	Changed    int            `json:"changed"`
	DurationMS int64          `json:"duration_ms"`
	Error      string         `json:"error,omitempty"`
	Changes    []fleet.Change `json:"changes,omitempty"`
}

// showHostOf is a host of a run; diffs only with --diff, as the text (masked either way).
func showHostOf(h ledger.Host, diff bool) showHost {
	s := showHost{Host: h.Name, Batch: h.Batch, Status: h.Status, RolledBack: h.RolledBack, Changed: h.Changed, DurationMS: h.Duration.Milliseconds(), Error: h.Error}
	for _, c := range h.Changes {
		if c.Action == "noop" {
			continue
		}
		if !diff {
			c.Diff = ""
		}
		s.Changes = append(s.Changes, c)
	}
	return s
}
