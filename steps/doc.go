// Package steps owns the step model every rollout is made of: a Step checks read-only what it
// would change (a Change with a unified diff) and applies it after recording its undo in the
// Journal; a Plan is the ordered steps and services of one host; Run applies a plan, restarts
// only what changed, re-checks every step and undoes the journal on any failure. It defines the
// Host it needs (commands and files as root), so it never depends on how hosts are reached.
// Standard library only, apart from the diff renderer.
package steps
