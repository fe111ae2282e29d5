//go:build unix

package ssh

import (
	"io/fs"
	"syscall"
)

// fileID is what, besides size and modification time, tells one version of a file from another:
// its inode and device (a file replaced by a rename) and its change time, which no copying tool
// can set (cp -p and rsync -a keep the modification time, and a key replaced by one of the same
// type keeps the size).
type fileID struct {
	dev, ino uint64
	ctime    syscall.Timespec
}

func idOf(st fs.FileInfo) fileID {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(s.Dev), ino: uint64(s.Ino), ctime: s.Ctim}
	}
	return fileID{}
}
