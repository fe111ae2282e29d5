package steps

import (
	"context"
	"errors"
	"fmt"
)

// Journal holds the undo records of one host's apply, in the order they were made, and the
// services the apply touched with the state they were in before.
type Journal struct {
	entries  []undo
	services []*Service
}

type undo struct {
	label string
	file  *File  // the original file (Exists=false: it was created, so delete it)
	cmd   string // a command that undoes a CommandStep
}

// RecordFile keeps the original bytes, mode and owner of a file about to be written.
func (j *Journal) RecordFile(orig File) {
	o := orig
	o.Data = append([]byte(nil), orig.Data...)
	j.entries = append(j.entries, undo{label: "restore " + orig.Path, file: &o})
}

// RecordCommand keeps the command that undoes a state change about to be made.
func (j *Journal) RecordCommand(label, undoCmd string) {
	j.entries = append(j.entries, undo{label: "undo " + label, cmd: undoCmd})
}

// TouchService notes that s is about to be stopped, started or restarted.
func (j *Journal) TouchService(s *Service) {
	for _, t := range j.services {
		if t == s {
			return
		}
	}
	j.services = append(j.services, s)
}

// Originals returns the original of every file the journal restores, in the order written.
func (j *Journal) Originals() []File {
	var out []File
	for _, e := range j.entries {
		if e.file != nil {
			out = append(out, *e.file)
		}
	}
	return out
}

// Empty reports whether nothing was recorded.
func (j *Journal) Empty() bool { return len(j.entries) == 0 && len(j.services) == 0 }

// Rollback undoes every record in reverse, then returns each touched service to its previous
// state with the restored configuration (proxies before apps), and waits until running ones
// answer again. It carries on past errors so as much as possible is put back, and reports them all.
func (j *Journal) Rollback(ctx context.Context, h Host) error {
	var errs []error
	for i := len(j.entries) - 1; i >= 0; i-- {
		e := j.entries[i]
		var err error
		switch {
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
	for _, kind := range []ServiceKind{Proxy, App} {
		for _, s := range j.services {
			if s.Kind == kind {
				if err := s.restore(ctx, h); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}
