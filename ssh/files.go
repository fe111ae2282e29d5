package ssh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
	"github.com/pkg/sftp"
)

// SetSFTPServer tells the client where sftp-server is on this host (from the facts); "" says the
// host has none at the usual paths (only sshd's internal-sftp, say).
func (c *Client) SetSFTPServer(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p != "" {
		c.cfg.SFTPServer = p
	}
	c.noServer = p == ""
}

// sftpClient opens SFTP once. On POSIX hosts it starts the host's sftp-server itself (under
// sudo when the login is not root) with umask 077, so the temporary file of an atomic write is
// created readable by root alone, before any byte of it (a server.xml's passwords) is written;
// the subsystem would create it with sshd's umask (0644). Windows has no such modes: the
// subsystem.
func (c *Client) sftpClient() (*sftp.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	c.trips.Add(1)
	if c.windows.Load() || (c.noServer && c.root()) {
		// The subsystem: Windows, or a root login on a host without an sftp-server binary
		// (writeFile then makes its temporary file 0600 before any data, as near as it gets).
		c.subsystem = true
		cl, err := sftp.NewClient(c.conn)
		if err != nil {
			return nil, fmt.Errorf("%s: start sftp: %w", c.cfg.Name, err)
		}
		c.sftp = cl
		return cl, nil
	}
	sess, err := c.conn.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: new session for sftp: %w", c.cfg.Name, err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	stderr := &target.Tail{N: 64 << 10}
	sess.Stderr = stderr
	cmd, pw := c.become(target.Quote(c.cfg.SFTPServer) + " -u 077")
	if err := sess.Start(cmd); err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: start %s: %w", c.cfg.Name, c.cfg.SFTPServer, err)
	}
	if pw != nil {
		if _, err := in.Write(pw); err != nil {
			sess.Close()
			return nil, err
		}
	}
	c.starting.Store(sess) // closeSFTP can end a handshake that never completes
	defer c.starting.Store(nil)
	cl, err := sftp.NewClientPipe(out, in)
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: sftp-server (%s): %w: %s", c.cfg.Name, c.cfg.SFTPServer, err, strings.TrimSpace(stderr.String()))
	}
	c.sftp, c.sftpSess = cl, sess
	return cl, nil
}

// ReadFile returns a file's bytes, mode and owner; a missing file is File{Exists: false}.
func (c *Client) ReadFile(ctx context.Context, p string) (target.File, error) {
	return withDeadline(c, ctx, "read "+p, func() (target.File, error) { return c.readFile(p) })
}

func (c *Client) readFile(p string) (target.File, error) {
	cl, err := c.sftpClient()
	if err != nil {
		return target.File{}, err
	}
	c.trips.Add(1)
	f, err := cl.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return target.File{Path: p}, nil
	}
	if err != nil {
		return target.File{}, fmt.Errorf("%s: open %s: %w", c.cfg.Name, p, err)
	}
	defer f.Close()
	c.trips.Add(1)
	st, err := f.Stat()
	if err != nil {
		return target.File{}, fmt.Errorf("%s: stat %s: %w", c.cfg.Name, p, err)
	}
	c.trips.Add(1)
	data, err := io.ReadAll(io.LimitReader(f, int64(c.cfg.maxOutput())+1))
	if err != nil {
		return target.File{}, fmt.Errorf("%s: read %s: %w", c.cfg.Name, p, err)
	}
	if len(data) > c.cfg.maxOutput() {
		return target.File{}, fmt.Errorf("%s: read %s: %w (%d MiB): not a configuration file frontdoor edits", c.cfg.Name, p, target.ErrTooMuch, c.cfg.maxOutput()>>20)
	}
	file := target.File{Path: p, Exists: true, Data: data, Mode: st.Mode().Perm()}
	if fst, ok := st.Sys().(*sftp.FileStat); ok {
		file.UID, file.GID = int(fst.UID), int(fst.GID)
	}
	return file, nil
}

// WriteFile replaces f.Path atomically: a temporary file in the same directory gets the data,
// mode and owner and is fsynced, then renamed over the target (posix-rename), so readers see the
// old or the new file, never half of one.
func (c *Client) WriteFile(ctx context.Context, f target.File) error {
	_, err := withDeadline(c, ctx, "write "+f.Path, func() (struct{}, error) { return struct{}{}, c.writeFile(f) })
	return err
}

func (c *Client) writeFile(f target.File) error {
	cl, err := c.sftpClient()
	if err != nil {
		return err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := target.TempName(path.Dir(f.Path), path.Base(f.Path), hex.EncodeToString(rnd[:]))
	fail := func(op string, err error) error {
		cl.Remove(tmp)
		return fmt.Errorf("%s: %s %s: %w", c.cfg.Name, op, f.Path, c.whyFailed(cl, path.Dir(f.Path), len(f.Data), err))
	}
	c.trips.Add(1)
	w, err := cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("%s: create %s: %w", c.cfg.Name, tmp, c.whyFailed(cl, path.Dir(f.Path), len(f.Data), err))
	}
	if afterCreate != nil {
		afterCreate(cl, tmp)
	}
	if c.subsystem && !c.windows.Load() {
		c.trips.Add(1)
		if err := w.Chmod(0o600); err != nil {
			w.Close()
			return fail("chmod", err)
		}
	}
	c.trips.Add(1)
	if _, err := w.Write(f.Data); err != nil {
		w.Close()
		return fail("write", err)
	}
	if !c.windows.Load() { // Windows keeps ACLs, not modes and owners: the new file inherits its folder's
		c.trips.Add(2)
		if err := w.Chmod(f.Mode.Perm()); err != nil {
			w.Close()
			return fail("chmod", err)
		}
		if err := w.Chown(f.UID, f.GID); err != nil {
			w.Close()
			return fail("chown", err)
		}
	}
	c.trips.Add(1)
	// fsync@openssh.com makes the bytes durable before the rename; a server without the extension
	// (some Windows OpenSSH builds) still gets an atomic rename, only without that guarantee.
	if err := w.Sync(); err != nil && !isUnsupported(err) {
		w.Close()
		return fail("fsync", err)
	}
	if err := w.Close(); err != nil {
		return fail("close", err)
	}
	c.trips.Add(1)
	if err := cl.PosixRename(tmp, f.Path); err != nil {
		return fail("rename into place", err)
	}
	return nil
}

// whyFailed adds the cause SFTP cannot say: sftp-server answers a full disk with the generic
// SSH_FX_FAILURE ("Failure"), so on that answer the free space of dir's filesystem is asked
// (statvfs@openssh.com) and, when it cannot hold need bytes or a new file, the error says so.
func (c *Client) whyFailed(cl *sftp.Client, dir string, need int, err error) error {
	var se *sftp.StatusError
	if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxFailure {
		return err
	}
	c.trips.Add(1)
	st, serr := cl.StatVFS(dir)
	if serr != nil {
		return err
	}
	free := st.Bfree * st.Frsize // sftp-server runs as root, which may use the reserved blocks
	if free >= uint64(need)+st.Frsize && st.Ffree > 0 {
		return err
	}
	return fmt.Errorf("%w: %w (%d KiB free on the filesystem of %s, %d free inodes)", target.ErrNoSpace, err, free>>10, dir, st.Ffree)
}

// Remove deletes a file; a missing file is not an error.
func (c *Client) Remove(ctx context.Context, p string) error {
	_, err := withDeadline(c, ctx, "remove "+p, func() (struct{}, error) { return struct{}{}, c.remove(p) })
	return err
}

func (c *Client) remove(p string) error {
	cl, err := c.sftpClient()
	if err != nil {
		return err
	}
	c.trips.Add(1)
	if err := cl.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: remove %s: %w", c.cfg.Name, p, err)
	}
	return nil
}

// withDeadline runs one file operation under the context and CommandTimeout: SFTP calls take no
// context, so on expiry the SFTP connection is closed (which ends the call; the next operation
// opens a new one) and the operation fails instead of hanging a worker.
func withDeadline[T any](c *Client, ctx context.Context, op string, f func() (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FileTimeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() { v, err := f(); done <- result{v, err} }()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		c.closeSFTP()
		var zero T
		return zero, fmt.Errorf("%s: %s: timed out or cancelled: %w", c.cfg.Name, op, ctx.Err())
	}
}

// closeSFTP ends the SFTP connection, if any.
func (c *Client) closeSFTP() {
	if s := c.starting.Load(); s != nil {
		s.Close() // sftpClient holds mu during the handshake: end it first
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sftp != nil {
		c.sftp.Close()
		c.sftp = nil
	}
	if c.sftpSess != nil {
		c.sftpSess.Close()
		c.sftpSess = nil
	}
}

// afterCreate, in tests, looks at the temporary file of an atomic write before data reaches it.
var afterCreate func(cl *sftp.Client, tmp string)

// isUnsupported says the SFTP server does not implement the operation.
func isUnsupported(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported
}
