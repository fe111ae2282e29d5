//go:build !unix

package ssh

// keyPermissions: Windows keeps ACLs, not modes; OpenSSH for Windows checks them, frontdoor does
// not yet.
func keyPermissions(string) error { return nil }
