package steps

import (
	"context"

	"github.com/frontdoor-dev/frontdoor/target"
)

// Action is what a Change does, as in a plan: nothing, create, update, delete or run.
type Action int

const (
	NoOp Action = iota
	Create
	Update
	Delete
	Run
)

var actions = [...]struct{ name, symbol string }{{"noop", "="}, {"create", "+"}, {"update", "~"}, {"delete", "-"}, {"run", "!"}}

// Symbol is the plan marker of an action.
func (a Action) Symbol() string { return actions[a].symbol }

// Name is the action as events and the ledger write it ("noop", "create", ...).
func (a Action) Name() string { return actions[a].name }

// ActionSymbol is the plan marker of an action written by Name ("" for an unknown one).
func ActionSymbol(name string) string {
	for _, x := range actions {
		if x.name == name {
			return x.symbol
		}
	}
	return ""
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
	Check(ctx context.Context, h target.Host) (Change, error)
	// Apply records the undo in j before it changes anything.
	Apply(ctx context.Context, h target.Host, j *Journal) error
	// Triggers names the services to stop before (apps) or restart after (httpd) a change.
	Triggers() []string
}
