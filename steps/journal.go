package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/frontdoor-dev/frontdoor/target"
)

// Journal holds the undo records of one host's apply, in the order they were made, and the
// services the apply touched with the state they were in before. With a Store it is saved on the
// host before each change it records, so a run whose controller died can still be undone.
type Journal struct {
	entries  []undo
	services []*Service
	// Store, if set, persists the journal; a failed save stops the change it precedes.
	Store JournalStore
	// Dialect is the host's: CheckRestored compares modes and owners only where it keeps them
	// (Windows keeps ACLs).
	Dialect target.Dialect
}

// JournalStore saves a journal where it outlives the controller (on the host itself).
type JournalStore interface {
	// Save writes the journal's records; added is the entry just recorded, whose original bytes
	// are new to the store (nil when only services changed).
	Save(ctx context.Context, j *Journal, added *Entry) error
}

type undo struct {
	label string
	file  *target.File // the original file (Exists=false: it was created, so delete it)
	after string       // sha256 of what the step writes ("" when it deletes the file)
	cmd   string       // a command that undoes a CommandStep
	final bool         // undone after the services are restored (removing an install)
}

// Entry is one undo record as stored: the original file's metadata and hashes (its bytes travel
// beside it as a backup), or the command that undoes a command step.
type Entry struct {
	Label   string      `json:"label"`
	Path    string      `json:"path,omitempty"`
	Existed bool        `json:"existed,omitempty"`
	Mode    fs.FileMode `json:"mode,omitempty"`
	UID     int         `json:"uid,omitempty"`
	GID     int         `json:"gid,omitempty"`
	// SHA256 is the original content's hash; After is the hash of what frontdoor wrote ("" when
	// it deleted the file). Drift is a live file matching neither.
	SHA256  string `json:"sha256,omitempty"`
	After   string `json:"after,omitempty"`
	Command string `json:"undo_command,omitempty"`
	// Final: the command runs after the services are back as they were (Apache installed by the
	// run is removed once its restored configuration has been restarted).
	Final bool `json:"final,omitempty"`
	// Data is the original content; it is stored as a backup file, not in the journal itself.
	Data []byte `json:"-"`
}

// Hash is the hex sha256 of b, as journals record it.
func Hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (j *Journal) save(ctx context.Context, added *Entry) error {
	if j.Store == nil {
		return nil
	}
	if err := j.Store.Save(ctx, j, added); err != nil {
		return fmt.Errorf("save the rollback journal on the host: %w", err)
	}
	return nil
}

// RecordFile keeps the original bytes, mode and owner of a file about to be written with want
// (nil: about to be deleted), and saves the journal before the write happens.
func (j *Journal) RecordFile(ctx context.Context, orig target.File, want []byte) error {
	o := orig
	o.Data = append([]byte(nil), orig.Data...)
	u := undo{label: "restore " + orig.Path, file: &o}
	if want != nil {
		u.after = Hash(want)
	}
	j.entries = append(j.entries, u)
	e := u.entry()
	return j.save(ctx, &e)
}

// RecordCommand keeps the command that undoes a state change about to be made.
func (j *Journal) RecordCommand(ctx context.Context, label, undoCmd string) error {
	u := undo{label: "undo " + label, cmd: undoCmd}
	j.entries = append(j.entries, u)
	e := u.entry()
	return j.save(ctx, &e)
}

// RecordFinalCommand keeps the command that undoes an install about to be made: a rollback runs
// it last, after the files are restored and the services restarted as they were (the packages'
// own scripts then stop and remove what they installed).
func (j *Journal) RecordFinalCommand(ctx context.Context, label, undoCmd string) error {
	u := undo{label: "undo " + label, cmd: undoCmd, final: true}
	j.entries = append(j.entries, u)
	e := u.entry()
	return j.save(ctx, &e)
}

// TouchService notes that s is about to be stopped, started or restarted.
func (j *Journal) TouchService(ctx context.Context, s *Service) error {
	for _, t := range j.services {
		if t == s {
			return nil
		}
	}
	j.services = append(j.services, s)
	return j.save(ctx, nil)
}

func (u undo) entry() Entry {
	e := Entry{Label: u.label, Command: u.cmd, After: u.after, Final: u.final}
	if u.file != nil {
		e.Path, e.Existed, e.Mode, e.UID, e.GID = u.file.Path, u.file.Exists, u.file.Mode, u.file.UID, u.file.GID
		e.SHA256, e.Data = Hash(u.file.Data), u.file.Data
	}
	return e
}

// Entries returns the stored form of every record, in the order made.
func (j *Journal) Entries() []Entry {
	out := make([]Entry, len(j.entries))
	for i, u := range j.entries {
		out[i] = u.entry()
	}
	return out
}

// Services returns the services touched, as they were before.
func (j *Journal) Services() []*Service { return j.services }

// Restore rebuilds a journal from its stored entries and services (the backups' bytes in Data).
func Restore(entries []Entry, services []*Service) (*Journal, error) {
	j := &Journal{services: services}
	for i, e := range entries {
		u := undo{label: e.Label, cmd: e.Command, after: e.After, final: e.Final}
		if e.Path != "" {
			if e.Existed && Hash(e.Data) != e.SHA256 {
				return nil, fmt.Errorf("journal entry %d (%s): the backup's sha256 is not the recorded %s: the backup is damaged", i+1, e.Path, e.SHA256)
			}
			u.file = &target.File{Path: e.Path, Exists: e.Existed, Data: e.Data, Mode: e.Mode, UID: e.UID, GID: e.GID}
		} else if e.Command == "" {
			return nil, fmt.Errorf("journal entry %d (%s) has neither a path nor a command", i+1, e.Label)
		}
		j.entries = append(j.entries, u)
	}
	return j, nil
}

// Originals returns the original of every file the journal restores, in the order written.
func (j *Journal) Originals() []target.File {
	var out []target.File
	for _, e := range j.entries {
		if e.file != nil {
			out = append(out, *e.file)
		}
	}
	return out
}

// Empty reports whether nothing was recorded.
func (j *Journal) Empty() bool { return len(j.entries) == 0 && len(j.services) == 0 }

// Drift lists the files the journal would restore that changed since frontdoor wrote them: each
// must hold what the run wrote, or still its original (the run stopped before writing it).
func (j *Journal) Drift(ctx context.Context, h target.Host) ([]string, error) {
	type want struct {
		orig, after string
		origExists  bool
		deleted     bool
	}
	byPath := map[string]*want{}
	for _, u := range j.entries {
		if u.file == nil {
			continue
		}
		w, ok := byPath[u.file.Path]
		if !ok {
			w = &want{orig: Hash(u.file.Data), origExists: u.file.Exists}
			byPath[u.file.Path] = w
		}
		w.after, w.deleted = u.after, u.after == ""
	}
	var paths []string
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var drift []string
	for _, p := range paths {
		w := byPath[p]
		live, err := h.ReadFile(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		asLeft := (w.deleted && !live.Exists) || (!w.deleted && live.Exists && Hash(live.Data) == w.after)
		asBefore := live.Exists == w.origExists && (!live.Exists || Hash(live.Data) == w.orig)
		if !asLeft && !asBefore {
			state := "was changed"
			if !live.Exists {
				state = "was deleted"
			}
			drift = append(drift, fmt.Sprintf("%s %s since the run wrote it", p, state))
		}
	}
	return drift, nil
}

// Rollback undoes every record in reverse, then returns each touched service to its previous
// state with the restored configuration (proxies before apps), and waits until running ones
// answer again; the final records (an install's removal) come last. It carries on past errors so
// as much as possible is put back, and reports them all.
func (j *Journal) Rollback(ctx context.Context, h target.Host) error {
	errs := j.undoEntries(ctx, h, false)
	for _, kind := range []ServiceKind{Proxy, App} {
		for _, s := range j.services {
			if s.Kind == kind {
				if err := s.restore(ctx, h); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	errs = append(errs, j.undoEntries(ctx, h, true)...)
	return errors.Join(errs...)
}

// undoEntries undoes the records that are final (or not), newest first.
func (j *Journal) undoEntries(ctx context.Context, h target.Host, final bool) []error {
	var errs []error
	for i := len(j.entries) - 1; i >= 0; i-- {
		e := j.entries[i]
		if e.final != final {
			continue
		}
		var err error
		switch {
		case e.file != nil && j.asOriginal(ctx, h, *e.file):
			// Already as it was (the change never landed: a write that failed before its rename,
			// on a full disk): writing it again could only fail the rollback for nothing.
		case e.file != nil && e.file.Exists:
			err = h.WriteFile(ctx, *e.file)
		case e.file != nil:
			err = h.Remove(ctx, e.file.Path)
		case e.cmd != "":
			_, err = h.Run(ctx, e.cmd, nil)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.label, err))
		}
	}
	return errs
}

// asOriginal says whether the live file is already its original: same existence, bytes, and (where
// the dialect keeps them) mode and owner. A file that cannot be read is not.
func (j *Journal) asOriginal(ctx context.Context, h target.Host, orig target.File) bool {
	live, err := h.ReadFile(ctx, orig.Path)
	if err != nil || live.Exists != orig.Exists {
		return false
	}
	if !orig.Exists {
		return true
	}
	return Hash(live.Data) == Hash(orig.Data) && (!j.Dialect.KeepsOwnership() || (live.Mode == orig.Mode && live.UID == orig.UID && live.GID == orig.GID))
}

// CheckRestored re-reads every restored file and compares it with its original (bytes, mode,
// owner), so a rollback is proven rather than assumed.
func (j *Journal) CheckRestored(ctx context.Context, h target.Host) error {
	seen := map[string]bool{}
	var errs []error
	for _, o := range j.Originals() {
		if seen[o.Path] {
			continue // the first record of a path holds its true original
		}
		seen[o.Path] = true
		live, err := h.ReadFile(ctx, o.Path)
		switch {
		case err != nil:
			errs = append(errs, err)
		case live.Exists != o.Exists:
			errs = append(errs, fmt.Errorf("%s: exists=%v after rollback, was %v", o.Path, live.Exists, o.Exists))
		case o.Exists && (Hash(live.Data) != Hash(o.Data) || (j.Dialect.KeepsOwnership() && (live.Mode != o.Mode || live.UID != o.UID || live.GID != o.GID))):
			errs = append(errs, fmt.Errorf("%s differs from its original after rollback", o.Path))
		}
	}
	return errors.Join(errs...)
}
