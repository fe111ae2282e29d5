package steps

import (
	"context"
	"fmt"

	"github.com/frontdoor-dev/frontdoor/target"
)

// CommandStep brings one piece of state (a module enabled, a site enabled, a boolean set) to
// where it should be with a command, and back with another. Whether it is needed was decided
// from the facts when the step was built.
type CommandStep struct {
	Label   string
	Done    bool   // already in the wanted state
	Reason  string // why nothing is needed, or what will be done
	Command string // brings it there
	Undo    string // brings it back
	Notify  []string
}

func (s *CommandStep) Name() string       { return s.Label }
func (s *CommandStep) Triggers() []string { return s.Notify }

func (s *CommandStep) Check(ctx context.Context, h target.Host) (Change, error) {
	if s.Done {
		return Change{Action: NoOp, Summary: s.Reason}, nil
	}
	return Change{Action: Run, Summary: s.Reason, Diff: "$ " + s.Command + "\n"}, nil
}

func (s *CommandStep) Apply(ctx context.Context, h target.Host, j *Journal) error {
	if err := j.RecordCommand(ctx, s.Label, s.Undo); err != nil {
		return err
	}
	if _, err := h.Run(ctx, s.Command, nil); err != nil {
		return fmt.Errorf("%s: %w", s.Label, err)
	}
	return nil
}
