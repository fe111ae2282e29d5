package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/frontdoor-dev/frontdoor/target"
	"github.com/pkg/sftp"
)

// SetSFTPServer tells the client where sftp-server is on this host (from the facts), for SFTP
// under sudo.
func (c *Client) SetSFTPServer(p string) {
	if p != "" {
		c.cfg.SFTPServer = p
	}
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
	if c.windows.Load() {
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
		return nil, err
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	cmd, pw := c.become(target.Quote(c.cfg.SFTPServer) + " -u 077")
	if err := sess.Start(cmd); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", c.cfg.Name, c.cfg.SFTPServer, err)
	}
	if pw != nil {
		if _, err := in.Write(pw); err != nil {
			return nil, err
		}
	}
	cl, err := sftp.NewClientPipe(out, in)
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("%s: sftp-server (%s): %w: %s", c.cfg.Name, c.cfg.SFTPServer, err, bytes.TrimSpace(stderr.Bytes()))
	}
	c.sftp, c.sftpSess = cl, sess
	return cl, nil
}

// ReadFile returns a file's bytes, mode and owner; a missing file is File{Exists: false}.
func (c *Client) ReadFile(ctx context.Context, p string) (target.File, error) {
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
	data, err := io.ReadAll(f)
	if err != nil {
		return target.File{}, fmt.Errorf("%s: read %s: %w", c.cfg.Name, p, err)
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
	cl, err := c.sftpClient()
	if err != nil {
		return err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := target.TempName(path.Dir(f.Path), path.Base(f.Path), hex.EncodeToString(rnd[:]))
	fail := func(op string, err error) error {
		cl.Remove(tmp)
		return fmt.Errorf("%s: %s %s: %w", c.cfg.Name, op, f.Path, err)
	}
	c.trips.Add(1)
	w, err := cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("%s: create %s: %w", c.cfg.Name, tmp, err)
	}
	if afterCreate != nil {
		afterCreate(cl, tmp)
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

// Remove deletes a file; a missing file is not an error.
func (c *Client) Remove(ctx context.Context, p string) error {
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

// afterCreate, in tests, looks at the temporary file of an atomic write before data reaches it.
var afterCreate func(cl *sftp.Client, tmp string)

// isUnsupported says the SFTP server does not implement the operation.
func isUnsupported(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported
}
