package simfleet

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/frontdoor-dev/frontdoor/target"
)

// files serves an emulated host's files over SFTP as sftp-server does for frontdoor's atomic
// write: create the temporary file exclusively, write, set mode and owner on the open handle,
// close, posix-rename over the target. A file being written lives here until it is closed, so
// the host sees it whole or not at all (sftp-server's file is visible at once; nothing of
// frontdoor's reads it meanwhile).
type files struct {
	conn    target.Conn
	f       *Fleet
	mu      sync.Mutex
	pending map[string]*pending
}

type pending struct {
	fs    *files
	path  string
	mu    sync.Mutex
	buf   []byte
	mode  fs.FileMode
	uid   int
	gid   int
	owned bool
}

func newFiles(conn target.Conn, f *Fleet) *files {
	return &files{conn: conn, f: f, pending: map[string]*pending{}}
}

func (s *files) read(p string) (target.File, error) {
	return s.conn.ReadFile(context.Background(), p)
}

func (s *files) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	s.f.delay()
	f, err := s.read(r.Filepath)
	if err != nil {
		return nil, err
	}
	if !f.Exists {
		return nil, os.ErrNotExist
	}
	return bytes.NewReader(f.Data), nil
}

func (s *files) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	s.f.delay()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, busy := s.pending[r.Filepath]; busy {
		return nil, os.ErrExist
	}
	if r.Pflags().Excl {
		f, err := s.read(r.Filepath)
		if err != nil {
			return nil, err
		}
		if f.Exists {
			return nil, os.ErrExist
		}
	}
	// sftp-server -u 077 creates the file 0600, root's.
	p := &pending{fs: s, path: r.Filepath, mode: 0o600}
	s.pending[r.Filepath] = p
	return p, nil
}

func (p *pending) WriteAt(b []byte, off int64) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if end := int(off) + len(b); end > len(p.buf) {
		p.buf = append(p.buf, make([]byte, end-len(p.buf))...)
	}
	copy(p.buf[off:], b)
	return len(b), nil
}

// Close puts the written file on the host.
func (p *pending) Close() error {
	p.fs.mu.Lock()
	delete(p.fs.pending, p.path)
	p.fs.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fs.conn.WriteFile(context.Background(), target.File{Path: p.path, Exists: true, Data: p.buf, Mode: p.mode, UID: p.uid, GID: p.gid})
}

func (s *files) Filecmd(r *sftp.Request) error {
	s.f.delay()
	ctx := context.Background()
	switch r.Method {
	case "Setstat":
		flags, attrs := r.AttrFlags(), r.Attributes()
		s.mu.Lock()
		p := s.pending[r.Filepath]
		s.mu.Unlock()
		if p != nil {
			p.mu.Lock()
			if flags.Permissions {
				p.mode = fs.FileMode(attrs.Mode).Perm()
			}
			if flags.UidGid {
				p.uid, p.gid = int(attrs.UID), int(attrs.GID)
			}
			p.mu.Unlock()
			return nil
		}
		f, err := s.read(r.Filepath)
		if err != nil {
			return err
		}
		if !f.Exists {
			return os.ErrNotExist
		}
		if flags.Permissions {
			f.Mode = fs.FileMode(attrs.Mode).Perm()
		}
		if flags.UidGid {
			f.UID, f.GID = int(attrs.UID), int(attrs.GID)
		}
		return s.conn.WriteFile(ctx, f)
	case "Remove":
		f, err := s.read(r.Filepath)
		if err != nil {
			return err
		}
		if !f.Exists {
			return os.ErrNotExist
		}
		return s.conn.Remove(ctx, r.Filepath)
	case "Rename":
		return s.rename(r.Filepath, r.Target)
	case "Mkdir":
		return nil // memhost has no directories: every parent exists
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename is posix-rename@openssh.com: the target is replaced.
func (s *files) PosixRename(r *sftp.Request) error {
	s.f.delay()
	return s.rename(r.Filepath, r.Target)
}

func (s *files) rename(from, to string) error {
	ctx := context.Background()
	f, err := s.read(from)
	if err != nil {
		return err
	}
	if !f.Exists {
		return os.ErrNotExist
	}
	f.Path = to
	if err := s.conn.WriteFile(ctx, f); err != nil {
		return err
	}
	return s.conn.Remove(ctx, from)
}

func (s *files) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	s.f.delay()
	switch r.Method {
	case "Stat", "Lstat":
		s.mu.Lock()
		p := s.pending[r.Filepath]
		s.mu.Unlock()
		if p != nil {
			p.mu.Lock()
			defer p.mu.Unlock()
			return lister{info{name: path.Base(p.path), size: int64(len(p.buf)), mode: p.mode, uid: p.uid, gid: p.gid}}, nil
		}
		f, err := s.read(r.Filepath)
		if err != nil {
			return nil, err
		}
		if !f.Exists {
			return nil, os.ErrNotExist
		}
		return lister{info{name: path.Base(f.Path), size: int64(len(f.Data)), mode: f.Mode, uid: f.UID, gid: f.GID}}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

type lister []os.FileInfo

func (l lister) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if off+int64(n) >= int64(len(l)) {
		return n, io.EOF
	}
	return n, nil
}

// info is a file's stat as sftp-server reports it (uid and gid through sftp.FileStat).
type info struct {
	name     string
	size     int64
	mode     fs.FileMode
	uid, gid int
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return i.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return false }
func (i info) Sys() any {
	return &sftp.FileStat{Size: uint64(i.size), Mode: uint32(i.mode), UID: uint32(i.uid), GID: uint32(i.gid)}
}
