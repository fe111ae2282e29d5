//go:build unix

package ssh

import (
	"fmt"
	"os"
	"syscall"
)

// keyPermissions refuses a private key that group or others may access, when it belongs to the
// user running frontdoor: OpenSSH's sshkey_perm_ok (a key owned by someone else, e.g. read by
// root, is not judged).
func keyPermissions(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) == os.Getuid() && fi.Mode().Perm()&0o077 != 0 {
		return &PermissionsError{File: path, Mode: fi.Mode()}
	}
	return nil
}
