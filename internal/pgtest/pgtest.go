// Package pgtest starts a real, throwaway PostgreSQL server for tests: its own cluster in a
// temporary directory, listening on 127.0.0.1 at a free port (and a unix socket in that
// directory), with a superuser that must give its password (scram-sha-256), stopped by its PID.
//
// It needs PostgreSQL's initdb and postgres: $FRONTDOOR_PG_BIN, else on $PATH, else the newest
// /usr/lib/postgresql/*/bin (Debian's postgresql package). Without them a test is skipped, unless
// FRONTDOOR_REQUIRE_POSTGRES=1 (CI), where it fails. As root the server runs as the postgres
// user (PostgreSQL refuses root), so the temporary directory's parents must let that user in.
// Clusters go in /dev/shm when it has room (faster), else in $TMPDIR.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// ErrNoPostgres says PostgreSQL's programs (or, as root, its system user) are not here.
var ErrNoPostgres = errors.New("PostgreSQL not found")

// Server is a running PostgreSQL cluster of its own.
type Server struct {
	Port           int
	User, Password string
	PID            int
	dir            string
	cmd            *exec.Cmd
	exited         chan struct{}
	admin          *sql.DB
	version        int // server_version_num
	mu             sync.Mutex
	dbs            int
}

// Binaries returns the directory holding initdb and postgres.
func Binaries() (string, error) {
	has := func(dir string) bool {
		for _, p := range []string{"initdb", "postgres"} {
			if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("FRONTDOOR_PG_BIN"); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%w: no initdb and postgres in $FRONTDOOR_PG_BIN (%s)", ErrNoPostgres, dir)
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(a, b int) bool { return version(dirs[a]) > version(dirs[b]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: no initdb and postgres on $PATH or in /usr/lib/postgresql/*/bin (install postgresql, or set $FRONTDOOR_PG_BIN)", ErrNoPostgres)
}

func version(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

// Start creates a cluster in a new temporary directory and starts its server. Stop ends it.
func Start() (*Server, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	// PostgreSQL will not run as root: then the cluster is the postgres user's.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("%w: running as root, and no postgres user to run the server as (%v)", ErrNoPostgres, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp(baseDir(), "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{User: "frontdoor", dir: dir, exited: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	// A password with characters a URL must escape, so that what reads it back is tested too.
	b := make([]byte, 8)
	rand.Read(b)
	s.Password = "pw/" + hex.EncodeToString(b) + "@:x"
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, "sock"), 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		for _, p := range []string{dir, pwfile, filepath.Join(dir, "sock")} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, err
			}
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", s.User, "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Env, initdb.Dir = env(), dir // its own directory: root's home is not the postgres user's to enter
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	os.Remove(pwfile)
	// The port is free when asked; another process may take it before postgres binds: try again.
	for try := 0; ; try++ {
		err = s.start(bin, data, cred)
		if err == nil || try == 2 || !strings.Contains(err.Error(), "could not bind") {
			break
		}
		s.exited = make(chan struct{})
	}
	if err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// baseDir is where clusters are made: /dev/shm when it is there with room to spare (a cluster
// is about 40 MB, and 8 more per database), since initdb creates some thousand files and takes
// a third of the time on tmpfs; else the temporary directory.
func baseDir() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err == nil && st.Bavail*uint64(st.Bsize) > 512<<20 && syscall.Access("/dev/shm", 2) == nil {
		return "/dev/shm"
	}
	return os.TempDir()
}

// start runs postgres on a free port and waits until it takes connections.
func (s *Server) start(bin, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	// Durability is of no use to a test's database: fsync off, small buffers, fast to start.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+filepath.Join(s.dir, "sock"),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=100", "-c", "logging_collector=off")
	// Pdeathsig: a test binary killed without its cleanup (a timeout) takes its server with it
	// (SIGINT: PostgreSQL's fast shutdown).
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	cmd.Env, cmd.Dir = env(), s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.cmd, s.PID, s.Port = cmd, cmd.Process.Pid, port
	exited := s.exited
	go func() { cmd.Wait(); close(exited) }()
	admin, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = admin.PingContext(ctx)
		cancel()
		if err == nil {
			s.admin = admin
			return admin.QueryRow(`SHOW server_version_num`).Scan(&s.version)
		}
		select {
		case <-exited:
			admin.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited as it started: %s", log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			admin.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres does not take connections after 30s: %v\n%s", err, log)
		}
	}
}

// env is the environment of initdb and postgres: this one without libpq's variables.
func env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			out = append(out, kv)
		}
	}
	return append(out, "LC_ALL=C")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is database db's URL, with the user's password (sslmode=disable: the server has no TLS).
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// CreateDB creates a new, empty database and returns its URL.
func (s *Server) CreateDB() (string, error) {
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("test%d", s.dbs)
	s.mu.Unlock()
	q := `CREATE DATABASE ` + name
	if s.version >= 150000 {
		q += ` STRATEGY = FILE_COPY` // a new database in tens of ms, not hundreds: no WAL of the template's pages
	}
	if _, err := s.admin.Exec(q); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// Stop ends the server by its PID (fast shutdown, then SIGKILL after 10 s) and removes its
// directory.
func (s *Server) Stop() error {
	if s.admin != nil {
		s.admin.Close()
	}
	var err error
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			err = fmt.Errorf("postgres (pid %d) did not stop on SIGINT within 10s: killed", s.PID)
		}
	}
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}

// New starts a server of the test's own, stopped when the test ends; skipped (or failed, with
// FRONTDOOR_REQUIRE_POSTGRES=1) without PostgreSQL.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	check(t, err)
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func check(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrNoPostgres) && os.Getenv("FRONTDOOR_REQUIRE_POSTGRES") != "1" {
		t.Skipf("skipped: %v (FRONTDOOR_REQUIRE_POSTGRES=1 makes this a failure)", err)
	}
	t.Fatalf("PostgreSQL for the test: %v", err)
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
}

// DB returns the URL of a new, empty database in the test binary's one server, started on first
// use (a second or so) and stopped by Main. Skips or fails as New does.
func DB(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.s, shared.err = Start() })
	check(t, shared.err)
	u, err := shared.s.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Main runs the tests and stops the shared server: a package using DB calls it from TestMain,
// os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.s != nil {
		if err := shared.s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}
