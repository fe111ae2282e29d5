// Package target owns the contract between frontdoor and a host: the Host it acts on (commands and
// files, as root), the File it reads and writes, the CommandError a failed command returns, and
// the Dialect (POSIX or Windows) that decides how commands and files are spoken. It imports no
// project package: steps, distro, the session and every transport (ssh, local, memhost) meet here.
package target

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"strings"
)

// Host is what frontdoor needs of a target: commands and files, as root (the transport handles
// sudo).
type Host interface {
	Name() string
	// Run runs a command in the host's shell and returns its standard output; a non-zero exit is
	// a *CommandError that includes standard error.
	Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error)
	ReadFile(ctx context.Context, path string) (File, error)
	// WriteFile replaces f.Path atomically with f.Data, mode f.Mode and owner f.UID:f.GID.
	WriteFile(ctx context.Context, f File) error
	Remove(ctx context.Context, path string) error
}

// Conn is a connected Host with what a session needs of its transport.
type Conn interface {
	Host
	// RoundTrips counts the remote operations made so far (the cost that matters).
	RoundTrips() int64
	// SetSFTPServer names the host's sftp-server binary (from the facts), for file access
	// through sudo.
	SetSFTPServer(path string)
	// SetDialect is called once the facts say how the host speaks (Windows: no sudo, plain SFTP,
	// no POSIX modes or owners).
	SetDialect(d Dialect)
	// Forward opens a TCP connection to addr as the host itself sees it, through the transport's
	// own authenticated channel (SSH's direct-tcpip): how secrets such as an application admin's
	// password reach the host's Apache without crossing the network in clear.
	Forward(ctx context.Context, addr string) (net.Conn, error)
	Close() error
}

// File is a file's content and metadata; Exists is false for a file that is not there.
type File struct {
	Path     string
	Exists   bool
	Data     []byte
	Mode     fs.FileMode
	UID, GID int
}

// Dialect is how a host is spoken to. It is chosen once, from the facts.
type Dialect int

const (
	// POSIX hosts run commands in sh, keep modes and owners, and reach root through sudo.
	POSIX Dialect = iota
	// Windows hosts (OpenSSH Server) run PowerShell commands as an administrator, and their
	// files keep ACLs, not POSIX modes and owners.
	Windows
)

func (d Dialect) String() string {
	if d == Windows {
		return "windows"
	}
	return "posix"
}

// KeepsOwnership says whether files carry a POSIX mode and owner worth writing and comparing.
func (d Dialect) KeepsOwnership() bool { return d == POSIX }

// CommandError is a command that failed on a host.
type CommandError struct {
	Host           string
	Err            error
	Stderr, Stdout string
}

func (e *CommandError) Error() string {
	msg := strings.TrimSpace(strings.TrimSpace(e.Stderr) + "\n" + strings.TrimSpace(e.Stdout))
	if len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	if strings.Contains(msg, "sudo: a password is required") {
		msg += " (this user's sudo needs a password: set become_password_file in the inventory or FRONTDOOR_BECOME_PASSWORD)"
	}
	return fmt.Sprintf("%s: %v: %s", e.Host, e.Err, msg)
}

func (e *CommandError) Unwrap() error { return e.Err }

// NotPOSIX says the command failed because the host's shell is not a POSIX one: cmd.exe answers
// "... is not recognized as an internal or external command" (a Windows host).
func (e *CommandError) NotPOSIX() bool {
	return strings.Contains(e.Stderr+e.Stdout, "is not recognized as")
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TempName is the name of the temporary file an atomic write of p goes through: in p's own
// directory (so the rename is atomic), hidden, and unique by rnd.
func TempName(dir, base, rnd string) string {
	return dir + "/.frontdoor-" + base + "." + rnd
}
