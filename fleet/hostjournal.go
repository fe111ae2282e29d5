package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/steps"
	"github.com/frontdoor-dev/frontdoor/target"
)

// Journal states, as kept in journal.json on the host.
const (
	StateApplying       = "applying"    // changes under way, or the controller died mid-run
	StateApplied        = "applied"     // the run finished on this host and verified
	StateRolledBack     = "rolled-back" // undone (by the run itself or by frontdoor rollback)
	StateRollbackFailed = "rollback-failed"
)

// RunDir is where a run's journal and backups live on a host (mode 0700); on Windows, under
// C:\ProgramData\frontdoor (as an SFTP path).
func RunDir(run string, d target.Dialect) string {
	if d == target.Windows {
		return distro.SFTPPath(distro.WinStateDir) + "/runs/" + run
	}
	return distro.StateDir + "/runs/" + run
}

// mkdirCommand makes dir and its parents, readable by root only on POSIX hosts.
func mkdirCommand(dir string, d target.Dialect) string {
	if d == target.Windows {
		return distro.WinCommand("mkdir", distro.WinParams{Path: distro.WinPath(dir)})
	}
	return fmt.Sprintf("umask 077 && mkdir -p %s", target.Quote(dir))
}

// HostJournal is journal.json: what one run did to one host, enough to undo it without the
// controller. "state" comes first so the gather script can read it with grep.
type HostJournal struct {
	State    string           `json:"state"`
	Run      string           `json:"run"`
	Host     string           `json:"host"`
	Owner    string           `json:"owner"`
	Started  time.Time        `json:"started"`
	Updated  time.Time        `json:"updated"`
	Entries  []steps.Entry    `json:"entries"`
	Services []*steps.Service `json:"services"`
	// Backups maps an entry's index to its backup file in backups/ (original bytes, exactly).
	Backups map[int]string `json:"backups,omitempty"`
}

// Store saves a run's journal on the host as the apply goes (steps.JournalStore). The original
// of each file goes to backups/<n>-<name> once; journal.json is rewritten atomically each time.
type Store struct {
	h       target.Host
	j       HostJournal
	madeDir bool
	d       target.Dialect
}

// NewStore starts the journal of run on host h.
func NewStore(h target.Host, run string, owner Owner, d target.Dialect) *Store {
	return &Store{h: h, d: d, j: HostJournal{State: StateApplying, Run: run, Host: h.Name(), Owner: owner.String(),
		Started: time.Now().UTC(), Backups: map[int]string{}}}
}

// Save implements steps.JournalStore.
func (s *Store) Save(ctx context.Context, j *steps.Journal, added *steps.Entry) error {
	dir := RunDir(s.j.Run, s.d)
	if !s.madeDir {
		if _, err := s.h.Run(ctx, mkdirCommand(dir+"/backups", s.d), nil); err != nil {
			return err
		}
		s.madeDir = true
	}
	entries := j.Entries()
	if added != nil && added.Path != "" && added.Existed {
		n := len(entries) - 1
		name := fmt.Sprintf("%03d-%s", n+1, path.Base(added.Path))
		if err := s.h.WriteFile(ctx, target.File{Path: dir + "/backups/" + name, Exists: true, Data: added.Data, Mode: 0o600}); err != nil {
			return err
		}
		s.j.Backups[n] = name
	}
	s.j.Entries, s.j.Services = entries, j.Services()
	return s.write(ctx)
}

// Finish records the host's final state for the run.
func (s *Store) Finish(ctx context.Context, state string) error {
	if !s.madeDir {
		return nil // nothing was changed, so nothing was kept
	}
	s.j.State = state
	return s.write(ctx)
}

func (s *Store) write(ctx context.Context) error {
	s.j.Updated = time.Now().UTC()
	data, err := json.MarshalIndent(&s.j, "", "  ")
	if err != nil {
		return err
	}
	return s.h.WriteFile(ctx, target.File{Path: RunDir(s.j.Run, s.d) + "/journal.json", Exists: true, Data: append(data, '\n'), Mode: 0o600})
}

// LoadJournal reads run's journal and backups from host h and rebuilds its undo records.
func LoadJournal(ctx context.Context, h target.Host, run string, d target.Dialect) (*HostJournal, *steps.Journal, error) {
	dir := RunDir(run, d)
	f, err := h.ReadFile(ctx, dir+"/journal.json")
	if err != nil {
		return nil, nil, err
	}
	if !f.Exists {
		return nil, nil, nil
	}
	var hj HostJournal
	if err := json.Unmarshal(f.Data, &hj); err != nil {
		return nil, nil, fmt.Errorf("%s:%s/journal.json: %w", h.Name(), dir, err)
	}
	if err := hj.check(); err != nil {
		return nil, nil, fmt.Errorf("%s:%s/journal.json: %w; refusing to replay it: look at the journal, then restore by hand", h.Name(), dir, err)
	}
	for i := range hj.Entries {
		e := &hj.Entries[i]
		if e.Path == "" || !e.Existed {
			continue
		}
		name, ok := hj.Backups[i]
		if !ok || strings.Contains(name, "/") {
			return nil, nil, fmt.Errorf("%s:%s/journal.json: entry %d (%s) has no backup", h.Name(), dir, i+1, e.Path)
		}
		b, err := h.ReadFile(ctx, dir+"/backups/"+name)
		if err != nil {
			return nil, nil, err
		}
		if !b.Exists {
			return nil, nil, fmt.Errorf("%s: backup %s/backups/%s is missing", h.Name(), dir, name)
		}
		e.Data = b.Data
	}
	j, err := steps.Restore(hj.Entries, hj.Services)
	if err != nil {
		return nil, nil, fmt.Errorf("%s:%s: %w", h.Name(), dir, err)
	}
	j.Dialect = d
	return &hj, j, nil
}

// check refuses a journal that holds what frontdoor never writes: a command of another shape, a
// relative or unclean path. The journal comes back from the host, and replaying it runs as root.
func (hj *HostJournal) check() error {
	for i, e := range hj.Entries {
		if e.Command != "" && !distro.Replayable(e.Command) {
			return fmt.Errorf("entry %d holds a command frontdoor does not write: %q", i+1, e.Command)
		}
		if e.Path != "" && (!path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path || strings.ContainsAny(e.Path, "\x00\n")) {
			return fmt.Errorf("entry %d has an unclean path %q", i+1, e.Path)
		}
	}
	for _, s := range hj.Services {
		s.Validate = "" // only an apply validates; a rollback never runs it
		for _, c := range []string{s.Start, s.Stop, s.Restart, s.Ready, s.RestoreReady, s.Configtest} {
			if c != "" && !distro.Replayable(c) {
				return fmt.Errorf("service %s has a command frontdoor does not write: %q", s.Name, c)
			}
		}
	}
	return nil
}

// SetState rewrites journal.json with a new state (after frontdoor rollback).
func SetState(ctx context.Context, h target.Host, hj *HostJournal, state string, d target.Dialect) error {
	s := &Store{h: h, j: *hj, madeDir: true, d: d}
	s.j.State = state
	return s.write(ctx)
}
