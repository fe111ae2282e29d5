package steps

import (
	"context"
	"io/fs"
)

// Host is what steps need of a target: commands and files, as root (the transport handles sudo).
type Host interface {
	Name() string
	// Run runs a POSIX shell command and returns its standard output; a non-zero exit is an error
	// that includes standard error.
	Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error)
	ReadFile(ctx context.Context, path string) (File, error)
	// WriteFile replaces f.Path atomically with f.Data, mode f.Mode and owner f.UID:f.GID.
	WriteFile(ctx context.Context, f File) error
	Remove(ctx context.Context, path string) error
}

// File is a file's content and metadata; Exists is false for a file that is not there.
type File struct {
	Path     string
	Exists   bool
	Data     []byte
	Mode     fs.FileMode
	UID, GID int
}

// Action is what a Change does, as in a plan: nothing, create, update, delete or run.
type Action int

const (
	NoOp Action = iota
	Create
	Update
	Delete
	Run
)

// Symbol is the plan marker of an action.
func (a Action) Symbol() string {
	return [...]string{"=", "+", "~", "-", "!"}[a]
}

// Change is the outcome of a Check: what Apply would do, and why nothing when it is a no-op.
type Change struct {
	Action  Action
	Summary string // "proxyName jira.example.com", or the reason for a no-op
	Diff    string // unified diff for file changes
}

// Step is one idempotent unit of a rollout.
type Step interface {
	Name() string
	// Check is read-only; it works from the facts the step was built with, so a converged host
	// costs no round trip beyond gathering the facts.
	Check(ctx context.Context, h Host) (Change, error)
	// Apply records the undo in j before it changes anything.
	Apply(ctx context.Context, h Host, j *Journal) error
	// Triggers names the services to stop before (apps) or restart after (httpd) a change.
	Triggers() []string
}
