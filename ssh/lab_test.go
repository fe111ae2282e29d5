package ssh

import (
	"context"
	"io/fs"
	"testing"

	"github.com/frontdoor-dev/frontdoor/internal/labtest"
	"github.com/frontdoor-dev/frontdoor/target"
	"github.com/pkg/sftp"
)

// On a real host (the lab: OpenSSH's sftp-server), the temporary file of an atomic write is
// 0600 from its creation, before any byte is written, for root and for a sudo user; the file
// then gets the mode asked for.
func TestAtomicWriteTempIsPrivate(t *testing.T) {
	l := labtest.Open(t)
	h := l.Need(t, 1)[0]
	for _, user := range []string{"root", "admin"} {
		c, err := Dial(context.Background(), Config{Name: h.Name, Address: h.Address, User: user, KeyFiles: []string{l.Key}, KnownHosts: l.KnownHosts})
		if err != nil {
			t.Fatal(err)
		}
		var tmpMode fs.FileMode
		afterCreate = func(cl *sftp.Client, tmp string) {
			if st, err := cl.Lstat(tmp); err == nil {
				tmpMode = st.Mode().Perm()
			}
		}
		p := "/root/frontdoor-perm-test"
		err = c.WriteFile(context.Background(), target.File{Path: p, Exists: true, Data: []byte("password=secret\n"), Mode: 0o644})
		afterCreate = nil
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.ReadFile(context.Background(), p)
		c.Remove(context.Background(), p)
		c.Close()
		if tmpMode != 0o600 || f.Mode != 0o644 || string(f.Data) != "password=secret\n" {
			t.Errorf("%s: temp file mode %o, final %o %q", user, tmpMode, f.Mode, f.Data)
		}
	}
}
