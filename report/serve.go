package report

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/ledger"
)

// Server is the read-only web view of a ledger: GET / lists the runs (filtered by status, host,
// playbook and date), GET /run/ID is the run's page, the same as frontdoor report writes. It has
// no action that writes, and answers nothing but GET and HEAD.
type Server struct {
	Ledger *ledger.Ledger
	// Opts are the run pages' options (RunLink and IndexLink are the server's own).
	Opts Options
	// AllowedHosts are the Host headers answered; nil answers any. Bound to loopback, the
	// server answers only to loopback names, so a web page cannot read the ledger through a
	// name of its own that resolves to 127.0.0.1 (DNS rebinding).
	AllowedHosts map[string]bool
}

// LoopbackHosts are the names a browser on this machine uses for addr (a loopback address).
func LoopbackHosts(addr net.Addr) map[string]bool {
	_, port, _ := net.SplitHostPort(addr.String())
	return map[string]bool{"127.0.0.1:" + port: true, "localhost:" + port: true, "[::1]:" + port: true, addr.String(): true}
}

// IsLoopback says whether a listen address (host:port) is on loopback only.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "this view of the ledger is read-only: only GET and HEAD are answered", http.StatusMethodNotAllowed)
		return
	}
	if s.AllowedHosts != nil && !s.AllowedHosts[strings.ToLower(r.Host)] {
		http.Error(w, fmt.Sprintf("this view answers only to the loopback names of its address, not to %q", r.Host), http.StatusMisdirectedRequest)
		return
	}
	switch {
	case r.URL.Path == "/":
		s.index(w, r)
	case strings.HasPrefix(r.URL.Path, "/run/"):
		id := strings.TrimPrefix(r.URL.Path, "/run/")
		if !fleet.ValidRunID(id) {
			http.NotFound(w, r)
			return
		}
		opts := s.Opts
		opts.RunLink = func(id string) string { return "/run/" + id }
		opts.IndexLink = "/"
		p, err := Build(s.Ledger, id, opts)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		p.Write(w)
	default:
		http.NotFound(w, r)
	}
}

// Filter selects runs in the list; empty fields select all.
type Filter struct {
	Status, Host, Playbook string
	From, To               string // YYYY-MM-DD, the day the run started (local time), inclusive
}

type indexRun struct {
	ledger.Run
	Status, What, Href string
}

type option struct {
	Value    string
	Selected bool
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Status: q.Get("status"), Host: q.Get("host"), Playbook: q.Get("playbook"), From: q.Get("from"), To: q.Get("to")}
	runs, err := s.Ledger.Runs(0)
	var names map[string][]string
	if err == nil {
		names, err = s.Ledger.HostNames()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	data := struct {
		frame
		Filter   Filter
		Statuses []option
		Runs     []indexRun
		Total    int
		Problem  string
	}{frame: newFrame(s.Opts.Generator, "frontdoor runs"), Filter: f, Total: len(runs)}
	for _, st := range []string{fleet.RunOK, fleet.RunFailed, fleet.RunStopped, fleet.RunInterrupted, StatusUnfinished} {
		data.Statuses = append(data.Statuses, option{st, st == f.Status})
	}
	for _, run := range runs {
		if !f.match(run, names[run.ID]) {
			continue
		}
		what := filepath.Base(run.Playbook)
		if run.Command == "rollback" {
			what = "undo " + run.Undoes
		}
		data.Runs = append(data.Runs, indexRun{Run: run, Status: runStatus(run), What: what, Href: "/run/" + run.ID})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pages.ExecuteTemplate(w, "index", data)
}

func (f Filter) match(r ledger.Run, hosts []string) bool {
	if f.Status != "" && runStatus(r) != f.Status {
		return false
	}
	if f.Playbook != "" && !strings.Contains(strings.ToLower(filepath.Base(r.Playbook)), strings.ToLower(f.Playbook)) {
		return false
	}
	day := r.Started.Local().Format("2006-01-02")
	if (f.From != "" && day < f.From) || (f.To != "" && day > f.To) {
		return false
	}
	if f.Host != "" {
		found := false
		for _, h := range hosts {
			found = found || strings.Contains(strings.ToLower(h), strings.ToLower(f.Host))
		}
		return found
	}
	return true
}
