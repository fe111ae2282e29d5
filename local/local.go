// Package local owns the transport of "connection: local": the machine frontdoor runs on, with
// the same operations and guarantees as an SSH host (atomic writes, mode and owner kept).
package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/frontdoor-dev/frontdoor/target"
)

// Host runs steps on the machine frontdoor runs on (inventory "connection: local"), with the
// same operations and guarantees as an SSH host. It must run as root.
type Host struct {
	name  string
	trips atomic.Int64
}

// New returns the local host; it refuses when not root, since every step needs root.
func New(name string) (*Host, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%s: connection: local needs frontdoor to run as root (run it with sudo)", name)
	}
	return &Host{name: name}, nil
}

func (l *Host) Name() string              { return l.name }
func (l *Host) RoundTrips() int64         { return l.trips.Load() }
func (l *Host) SetSFTPServer(string)      {}
func (l *Host) SetDialect(target.Dialect) {}
func (l *Host) Close() error              { return nil }

func (l *Host) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	l.trips.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	stdout := &target.Bounded{Max: target.MaxOutput, OnOver: cancel}
	stderr := &target.Tail{N: 64 << 10}
	c.Stdout, c.Stderr = stdout, stderr
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	err := c.Run()
	if oerr := stdout.Err("its output"); oerr != nil {
		return nil, fmt.Errorf("%s: %w", l.name, oerr)
	}
	if err != nil {
		return stdout.Bytes(), &target.CommandError{Host: l.name, Err: err, Stderr: stderr.String(), Stdout: stdout.String()}
	}
	return stdout.Bytes(), nil
}

func (l *Host) ReadFile(ctx context.Context, p string) (target.File, error) {
	l.trips.Add(1)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return target.File{Path: p}, nil
	}
	if err != nil {
		return target.File{}, fmt.Errorf("%s: %w", l.name, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return target.File{}, fmt.Errorf("%s: %w", l.name, err)
	}
	f := target.File{Path: p, Exists: true, Data: data, Mode: st.Mode().Perm()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		f.UID, f.GID = int(sys.Uid), int(sys.Gid)
	}
	return f, nil
}

func (l *Host) WriteFile(ctx context.Context, f target.File) error {
	l.trips.Add(1)
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := target.TempName(filepath.Dir(f.Path), filepath.Base(f.Path), hex.EncodeToString(rnd[:]))
	w, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.Mode.Perm())
	if err != nil {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	err = func() error {
		if _, err := w.Write(f.Data); err != nil {
			return err
		}
		if err := w.Chmod(f.Mode.Perm()); err != nil {
			return err
		}
		if err := w.Chown(f.UID, f.GID); err != nil {
			return err
		}
		return w.Sync()
	}()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.Path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: write %s: %w", l.name, f.Path, err)
	}
	return nil
}

func (l *Host) Remove(ctx context.Context, p string) error {
	l.trips.Add(1)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	return nil
}

// Forward connects to addr on this machine.
func (l *Host) Forward(ctx context.Context, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
}
