package target

import (
	"context"
	"sync/atomic"
)

// Counted wraps a connection and counts every command and file operation made through it: the
// round trips a session costs, seen from above the transport (the tests and the benchmark that
// hold frontdoor to 2 for a converged host use it, next to the transport's own RoundTrips).
type Counted struct {
	Conn
	n atomic.Int64
}

// Ops is how many operations went through so far.
func (c *Counted) Ops() int64 { return c.n.Load() }

func (c *Counted) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	c.n.Add(1)
	return c.Conn.Run(ctx, cmd, stdin)
}

func (c *Counted) ReadFile(ctx context.Context, p string) (File, error) {
	c.n.Add(1)
	return c.Conn.ReadFile(ctx, p)
}

func (c *Counted) WriteFile(ctx context.Context, f File) error {
	c.n.Add(1)
	return c.Conn.WriteFile(ctx, f)
}

func (c *Counted) Remove(ctx context.Context, p string) error {
	c.n.Add(1)
	return c.Conn.Remove(ctx, p)
}
