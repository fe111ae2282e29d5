package ssh

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/frontdoor-dev/frontdoor/target"
	"github.com/pkg/sftp"
	"github.com/skeema/knownhosts"
	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// Config says how to reach and become root on one host.
type Config struct {
	Name     string // inventory name, used in every error
	Address  string
	Port     int
	User     string
	KeyFiles []string
	UseAgent bool // also offer the keys of $SSH_AUTH_SOCK
	// DefaultIdentities: with no KeyFiles, offer OpenSSH's default identities that exist:
	// ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
	DefaultIdentities bool
	// Passphrase asks for the passphrase of an encrypted key file (on a terminal); nil when
	// there is no one to ask: such a key is then skipped for the agent, or refused.
	Passphrase func(keyFile string) ([]byte, error)
	KnownHosts string // default ~/.ssh/known_hosts
	// AcceptNew records the key of a host that known_hosts does not list yet (never a changed key).
	AcceptNew bool
	// BecomePassword is the sudo password of a non-root user; nil means sudo -n (NOPASSWD).
	BecomePassword []byte
	ConnectTimeout time.Duration // default 15 s
	// CommandTimeout bounds one command (default 65 min: the longest readiness wait a playbook
	// may ask for, target.MaxWait, and a margin); FileTimeout one file operation (default 2 min).
	CommandTimeout time.Duration
	FileTimeout    time.Duration
	// MaxOutput bounds a command's output and a file read (default target.MaxOutput).
	MaxOutput int
	// KeepAlive is the interval of the keepalive probes (default 5 s); see keepalive.
	KeepAlive  time.Duration
	SFTPServer string // for sudo SFTP; default /usr/lib/openssh/sftp-server
	// Jump are the hops to go through first, in order (OpenSSH's ProxyJump). Each hop is
	// authenticated with the same keys and checked against the same known_hosts.
	Jump []Hop
}

// Hop is one jump host.
type Hop struct {
	Address string
	Port    int
	User    string
}

// ParseProxyJump reads OpenSSH's ProxyJump value: [user@]host[:port], comma-separated; a hop
// without a user logs in as defaultUser.
func ParseProxyJump(v, defaultUser string) ([]Hop, error) {
	if v == "" || v == "none" {
		return nil, nil
	}
	var out []Hop
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(strings.TrimPrefix(part, "ssh://"))
		h := Hop{User: defaultUser, Port: 22}
		if u, rest, ok := strings.Cut(part, "@"); ok {
			h.User, part = u, rest
		}
		host, port, err := net.SplitHostPort(part)
		if err != nil {
			host = strings.Trim(part, "[]")
		} else if h.Port, err = strconv.Atoi(port); err != nil || h.Port < 1 || h.Port > 65535 {
			return nil, fmt.Errorf("ProxyJump %q: bad port %q", v, port)
		}
		if host == "" || strings.ContainsAny(host, " /") {
			return nil, fmt.Errorf("ProxyJump %q: write [user@]host[:port], comma-separated", v)
		}
		h.Address = host
		out = append(out, h)
	}
	return out, nil
}

// Client is one SSH connection to a host, reused for every command and for SFTP.
type Client struct {
	cfg   Config
	conn  *xssh.Client
	jumps []*xssh.Client // hops, closed after conn
	trips atomic.Int64
	// windows: the host is Windows (see SetDialect).
	windows atomic.Bool

	mu       sync.Mutex
	sftp     *sftp.Client
	sftpSess *xssh.Session
	starting atomic.Pointer[xssh.Session] // the sftp-server session while its handshake runs
	// noServer: the facts found no sftp-server binary; subsystem: SFTP runs through sshd's
	// subsystem (Windows, or root without the binary), whose umask frontdoor cannot set.
	noServer, subsystem bool
	done                chan struct{}
}

// HostKeyError says the host presented a key other than the one known_hosts has for it.
type HostKeyError struct {
	// Host is the inventory name (or the jump host's address); Entry the name known_hosts keeps
	// the key under (host, or [host]:port off port 22), as ssh-keygen -R wants it.
	Host, Entry, KnownHosts string
	Err                     error
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("%s: HOST KEY CHANGED for %s (it does not match %s): this may be an attack, or the host was reinstalled. "+
		"Refusing to connect. If the change is expected, remove the old key with: ssh-keygen -R %s -f %s",
		e.Host, e.Entry, e.KnownHosts, shellWord(e.Entry), e.KnownHosts)
}

// shellWord quotes a known_hosts entry for the command line when it needs it ([host]:port).
func shellWord(s string) string {
	if strings.ContainsAny(s, "[]*?") {
		return target.Quote(s)
	}
	return s
}

func (e *HostKeyError) Unwrap() error { return e.Err }

// UnknownHostError is a host absent from known_hosts (or no known_hosts file at all: Key empty),
// refused because recording new keys was not asked for.
type UnknownHostError struct {
	Host, KnownHosts string
	// Key is the presented key's type and SHA256 fingerprint ("" when the file does not exist).
	Key string
}

func (e *UnknownHostError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("known_hosts file %s does not exist", e.KnownHosts)
	}
	return fmt.Sprintf("%s: host key not in %s (%s): verify it and add it", e.Host, e.KnownHosts, e.Key)
}

func (c *Config) maxOutput() int {
	if c.MaxOutput > 0 {
		return c.MaxOutput
	}
	return target.MaxOutput
}

func (c *Config) defaults() error {
	if c.Port == 0 {
		c.Port = 22
	}
	if c.User == "" {
		c.User = "root"
	}
	if c.KnownHosts == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return err
		}
		c.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 15 * time.Second
	}
	if c.CommandTimeout == 0 {
		c.CommandTimeout = target.MaxWait*time.Second + 5*time.Minute
	}
	if c.FileTimeout == 0 {
		c.FileTimeout = 2 * time.Minute
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 5 * time.Second
	}
	if c.SFTPServer == "" {
		c.SFTPServer = "/usr/lib/openssh/sftp-server"
	}
	return nil
}

// defaultIdentities are the key files OpenSSH tries when none is configured, in its order.
var defaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// PermissionsError is a private key file that others may read: refused, as OpenSSH refuses it.
type PermissionsError struct {
	File string
	Mode os.FileMode
}

func (e *PermissionsError) Error() string {
	return fmt.Sprintf("UNPROTECTED PRIVATE KEY FILE: permissions %04o for %s are too open: a private key must not be accessible by others, so it is refused (as OpenSSH does). Fix it with: chmod 600 %s",
		e.Mode.Perm(), e.File, shellArg(e.File))
}

// shellArg quotes a path for a command the user is told to run, only when it needs quoting.
func shellArg(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./+-@%:,", r)) {
			return target.Quote(s)
		}
	}
	return s
}

// loadKey reads a private key file as OpenSSH does: refused if others can read it, a passphrase
// asked for when it is encrypted. skip is true for an encrypted key that cannot be unlocked here
// (no terminal) while the agent may hold it.
func (c *Config) loadKey(k string, agentToo bool) (s xssh.Signer, skip bool, err error) {
	if err := keyPermissions(k); err != nil {
		return nil, false, err
	}
	pem, err := os.ReadFile(k)
	if err != nil {
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	s, err = xssh.ParsePrivateKey(pem)
	var missing *xssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", k, err)
		}
		return s, false, nil
	}
	if c.Passphrase == nil {
		if agentToo {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("key file %s is passphrase-protected and there is no terminal to ask for it: load it into ssh-agent (ssh-add %s) and use the agent, or run frontdoor on a terminal", k, shellArg(k))
	}
	pass, err := c.Passphrase(k)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: passphrase: %w", k, err)
	}
	s, err = xssh.ParsePrivateKeyWithPassphrase(pem, pass)
	if err != nil {
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, false, fmt.Errorf("key file %s: wrong passphrase", k)
		}
		return nil, false, fmt.Errorf("key file %s: %w", k, err)
	}
	return s, false, nil
}

func (c *Config) auth() ([]xssh.AuthMethod, error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	agentToo := c.UseAgent && sock != ""
	files := c.KeyFiles
	defaults := false
	if len(files) == 0 && c.DefaultIdentities {
		if home, err := os.UserHomeDir(); err == nil {
			for _, id := range defaultIdentities {
				p := filepath.Join(home, ".ssh", id)
				if _, err := os.Stat(p); err == nil {
					files = append(files, p)
					defaults = true
				}
			}
		}
	}
	var signers []xssh.Signer
	for _, k := range files {
		s, skip, err := c.loadKey(k, agentToo)
		if err != nil {
			return nil, err
		}
		if !skip {
			signers = append(signers, s)
		}
	}
	methods := []xssh.AuthMethod{}
	if agentToo {
		// The agent's keys first, as OpenSSH offers them; an agent that does not answer is
		// passed over when there are key files, as OpenSSH warns and goes on.
		conn, err := net.Dial("unix", sock)
		switch {
		case err == nil:
			methods = append(methods, xssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		case len(signers) == 0:
			return nil, fmt.Errorf("ssh-agent at $SSH_AUTH_SOCK (%s): %w", sock, err)
		}
	}
	if len(signers) > 0 {
		methods = append(methods, xssh.PublicKeys(signers...))
	}
	if len(methods) == 0 {
		if defaults || len(files) > 0 {
			return nil, fmt.Errorf("no usable key: %s are passphrase-protected and no ssh-agent runs: ssh-add them, or run frontdoor on a terminal", strings.Join(files, ", "))
		}
		return nil, fmt.Errorf("no key: give a key file (inventory 'key:' or ssh_config IdentityFile), create ~/.ssh/id_ed25519, or run ssh-agent (SSH_AUTH_SOCK)")
	}
	return methods, nil
}

// hostKeyCallback verifies against known_hosts; with AcceptNew a host absent from the file is
// appended to it, a host present with another key is always refused.
func (c *Config) hostKeyCallback() (xssh.HostKeyCallback, *knownhosts.HostKeyDB, error) {
	if _, err := os.Stat(c.KnownHosts); errors.Is(err, os.ErrNotExist) {
		if !c.AcceptNew {
			return nil, nil, &UnknownHostError{Host: c.Name, KnownHosts: c.KnownHosts}
		}
		if err := os.MkdirAll(filepath.Dir(c.KnownHosts), 0o700); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(c.KnownHosts, nil, 0o600); err != nil {
			return nil, nil, err
		}
	}
	db, hashed, err := loadKnownHosts(c.KnownHosts)
	if err != nil {
		return nil, nil, fmt.Errorf("known_hosts %s: %w", c.KnownHosts, err)
	}
	cb := func(hostname string, remote net.Addr, key xssh.PublicKey) error {
		err := db.HostKeyCallback()(hostname, remote, key)
		if err == nil {
			return nil
		}
		// The key is looked up, and recorded, under the name dialled (host:port as given to the
		// handshake), never under the address it resolved to: a host dialled by name stays
		// pinned by that name, and no other name's key is touched.
		entry := knownhosts.Normalize(hostname)
		if knownhosts.IsHostKeyChanged(err) {
			return &HostKeyError{Host: c.Name, Entry: entry, KnownHosts: c.KnownHosts, Err: err}
		}
		if knownhosts.IsHostUnknown(err) {
			if !c.AcceptNew {
				return &UnknownHostError{Host: c.Name, KnownHosts: c.KnownHosts, Key: key.Type() + " " + xssh.FingerprintSHA256(key)}
			}
			f, ferr := os.OpenFile(c.KnownHosts, os.O_APPEND|os.O_WRONLY, 0o600)
			if ferr != nil {
				return ferr
			}
			defer f.Close()
			if hashed {
				entry = xknownhosts.HashHostname(entry)
			}
			_, ferr = fmt.Fprintln(f, knownhosts.Line([]string{entry}, key))
			return ferr
		}
		return err
	}
	return cb, db, nil
}

// knownHostsCache keeps each known_hosts file parsed once per version of it: a fleet's hosts
// share one file, and parsing it for every dial made a run's cost grow with the square of its
// hosts (1,000 hosts: 200 MB and 1.5 s of CPU in parsing alone). A version is the file's size
// and modification time, inode and change time (fileID), so a line appended (accept-new, or by
// hand) or a key replaced is read by the next dial.
var knownHostsCache struct {
	sync.Mutex
	m map[string]knownHostsVersion
}

type knownHostsVersion struct {
	size   int64
	mod    time.Time
	id     fileID
	db     *knownhosts.HostKeyDB
	hashed bool
}

// loadKnownHosts returns the parsed file and whether it keeps its names hashed (HashKnownHosts
// yes): new entries are then hashed too, so the file does not start listing the hosts it protects.
func loadKnownHosts(path string) (*knownhosts.HostKeyDB, bool, error) {
	knownHostsCache.Lock()
	defer knownHostsCache.Unlock()
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if v, ok := knownHostsCache.m[path]; ok && v.size == st.Size() && v.mod.Equal(st.ModTime()) && v.id == idOf(st) {
		return v.db, v.hashed, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	db, err := knownhosts.NewDB(path)
	if err != nil {
		return nil, false, err
	}
	v := knownHostsVersion{size: st.Size(), mod: st.ModTime(), id: idOf(st), db: db, hashed: bytes.Contains(data, []byte("|1|"))}
	// The file may have changed between the Stat and the reads: keep it only if it did not.
	if st2, err := os.Stat(path); err == nil && st2.Size() == st.Size() && st2.ModTime().Equal(st.ModTime()) && idOf(st2) == v.id {
		if knownHostsCache.m == nil {
			knownHostsCache.m = map[string]knownHostsVersion{}
		}
		knownHostsCache.m[path] = v
	}
	return db, v.hashed, nil
}

// Dial connects and authenticates. Every error names the host.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	auth, err := cfg.auth()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	cb, db, err := cfg.hostKeyCallback()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	d := net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	dial := func(addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	var jumps []*xssh.Client
	fail := func(err error) (*Client, error) {
		for i := len(jumps) - 1; i >= 0; i-- {
			jumps[i].Close()
		}
		return nil, err
	}
	hops := append(append([]Hop(nil), cfg.Jump...), Hop{Address: cfg.Address, Port: cfg.Port, User: cfg.User})
	var conn *xssh.Client
	for i, hop := range hops {
		addr := net.JoinHostPort(hop.Address, strconv.Itoa(hop.Port))
		via := ""
		if i < len(hops)-1 {
			via = " (jump host)"
		} else if len(jumps) > 0 {
			via = " (through " + cfg.Jump[len(cfg.Jump)-1].Address + ")"
		}
		cc := &xssh.ClientConfig{
			User:            hop.User,
			Auth:            auth,
			HostKeyCallback: cb,
			// Ask only for key types known_hosts has for this host, so a host known by its ed25519
			// key is not refused because it offered RSA first.
			HostKeyAlgorithms: db.HostKeyAlgorithms(addr),
			Timeout:           cfg.ConnectTimeout,
		}
		tcp, err := dial(addr)
		if err != nil {
			return fail(fmt.Errorf("%s: connect %s%s: %w", cfg.Name, addr, via, err))
		}
		tcp.SetDeadline(time.Now().Add(cfg.ConnectTimeout))
		sc, chans, reqs, err := xssh.NewClientConn(tcp, addr, cc)
		if err != nil {
			tcp.Close()
			var hk *HostKeyError
			if errors.As(err, &hk) {
				if i < len(hops)-1 {
					hk.Host = hop.Address
					return fail(fmt.Errorf("%s: jump host: %w", cfg.Name, hk))
				}
				return fail(hk)
			}
			return fail(fmt.Errorf("%s: ssh handshake with %s@%s%s: %w", cfg.Name, hop.User, addr, via, err))
		}
		tcp.SetDeadline(time.Time{})
		conn = xssh.NewClient(sc, chans, reqs)
		if i < len(hops)-1 {
			jumps = append(jumps, conn)
			jc := conn
			dial = func(addr string) (net.Conn, error) { return jc.DialContext(ctx, "tcp", addr) }
		}
	}
	c := &Client{cfg: cfg, conn: conn, jumps: jumps, done: make(chan struct{})}
	go c.keepalive()
	return c, nil
}

// keepalive closes a connection whose peer stopped answering, so commands fail instead of hanging:
// a probe every KeepAlive, each given KeepAlive to answer, three missed in a row end it (a cut
// link is noticed in 3 to 6 KeepAlive: 15 to 30 s by default, as OpenSSH's ServerAliveInterval 5
// with ServerAliveCountMax 3).
func (c *Client) keepalive() {
	every := c.cfg.KeepAlive
	t := time.NewTicker(every)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			ok := make(chan error, 1)
			go func() { _, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil); ok <- err }()
			select {
			case err := <-ok:
				if err != nil {
					c.conn.Close()
					return
				}
				misses = 0
			case <-time.After(every):
				if misses++; misses >= 3 {
					c.conn.Close()
					return
				}
			}
		}
	}
}

// Name is the host's inventory name.
func (c *Client) Name() string { return c.cfg.Name }

// RoundTrips counts commands and SFTP operations since Dial.
func (c *Client) RoundTrips() int64 { return c.trips.Load() }

// Close ends SFTP and the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	if c.sftp != nil {
		c.sftp.Close()
	}
	if c.sftpSess != nil {
		c.sftpSess.Close()
	}
	err := c.conn.Close()
	for i := len(c.jumps) - 1; i >= 0; i-- {
		c.jumps[i].Close()
	}
	return err
}

// root says commands and files need no sudo: logged in as root, or on Windows, where the
// OpenSSH user is an administrator and there is no sudo.
func (c *Client) root() bool { return c.cfg.User == "root" || c.windows.Load() }

// SetDialect switches the client to a Windows host (once the facts say so): commands go as they
// are (no sudo), SFTP is the plain subsystem, and writes set no POSIX mode or owner.
func (c *Client) SetDialect(d target.Dialect) { c.windows.Store(d == target.Windows) }

// become wraps cmd so it runs as root, and returns the stdin prefix sudo reads the password from.
func (c *Client) become(cmd string) (string, []byte) {
	if c.root() {
		return cmd, nil
	}
	if c.cfg.BecomePassword == nil {
		return "sudo -n -- sh -c " + target.Quote(cmd), nil
	}
	// -k: ignore cached credentials, so sudo always reads exactly one password line and the rest
	// of stdin reaches the command. -p '': no prompt text in the output.
	pw := append(append([]byte(nil), c.cfg.BecomePassword...), '\n')
	return "sudo -k -S -p '' -- sh -c " + target.Quote(cmd), pw
}

// Run runs cmd as root through a POSIX shell and returns its stdout. A non-zero exit is an error
// with the exit status and the end of stderr.
func (c *Client) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	c.trips.Add(1)
	sess, err := c.conn.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: new session: %w", c.cfg.Name, err)
	}
	defer sess.Close()
	full, pw := c.become(cmd)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CommandTimeout)
	defer cancel()
	stdout := &target.Bounded{Max: c.cfg.maxOutput(), OnOver: cancel}
	stderr := &target.Tail{N: 64 << 10}
	sess.Stdout, sess.Stderr = stdout, stderr
	if pw != nil || stdin != nil {
		sess.Stdin = io.MultiReader(bytes.NewReader(pw), bytes.NewReader(stdin))
	}
	errc := make(chan error, 1)
	go func() { errc <- sess.Run(full) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sess.Signal(xssh.SIGKILL)
		sess.Close()
		if err := stdout.Err("its output"); err != nil {
			return nil, fmt.Errorf("%s: %w", c.cfg.Name, err)
		}
		return stdout.Bytes(), fmt.Errorf("%s: command timed out or was cancelled: %w", c.cfg.Name, ctx.Err())
	}
	if err := stdout.Err("its output"); err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.Name, err)
	}
	if err != nil {
		return stdout.Bytes(), &target.CommandError{Host: c.cfg.Name, Err: err, Stderr: stderr.String(), Stdout: stdout.String()}
	}
	return stdout.Bytes(), nil
}

// Forward opens a TCP connection to addr from the host, over the SSH connection.
func (c *Client) Forward(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := c.conn.DialContext(ctx, "tcp", addr)
	var oce *xssh.OpenChannelError
	if errors.As(err, &oce) && oce.Reason == xssh.ConnectionFailed && strings.Contains(strings.ToLower(oce.Message), "refused") {
		// As a local dial says it: nothing listens there (callers tell it from other failures).
		return nil, fmt.Errorf("%s: forward to %s over SSH: %w (%w)", c.cfg.Name, addr, err, syscall.ECONNREFUSED)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: forward to %s over SSH: %w", c.cfg.Name, addr, err)
	}
	return conn, nil
}
