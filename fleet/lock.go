package fleet

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NewRunID is a sortable, unique run id: UTC time plus random bits, e.g. 20261127T091500Z-3f9a2c.
func NewRunID(now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// ValidRunID says whether id has the shape NewRunID gives (it becomes a path on hosts).
func ValidRunID(id string) bool {
	t, r, ok := strings.Cut(id, "-")
	if !ok || len(r) != 6 {
		return false
	}
	if _, err := time.Parse("20060102T150405Z", t); err != nil {
		return false
	}
	_, err := hex.DecodeString(r)
	return err == nil
}

// Owner is who holds a host's lock: the run, the controller (user@machine), its PID, since when,
// and where that PID means something: the machine's id, its boot, and the PID namespace. Two
// controllers with the same host name (containers, CI runners) differ there, so neither takes
// the other's live lock for a stale one.
type Owner struct {
	Run        string
	Controller string
	PID        int
	Started    time.Time
	// Machine is /etc/machine-id, Boot the kernel's boot_id, PIDNS the PID namespace's inode.
	Machine, Boot, PIDNS string
}

// thisMachine reads where this process's PID is meaningful ("" for what cannot be read).
func thisMachine() (machine, boot, pidns string) {
	read := func(p string) string {
		b, _ := os.ReadFile(p)
		return clean(strings.TrimSpace(string(b)))
	}
	machine = read("/etc/machine-id")
	if machine == "" {
		machine = read("/var/lib/dbus/machine-id")
	}
	boot = read("/proc/sys/kernel/random/boot_id")
	if l, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		pidns = clean(l)
	}
	return machine, boot, pidns
}

// Me is the owner line of a run started by this process.
func Me(run string, now time.Time) Owner {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	o := Owner{Run: run, Controller: name + "@" + host, PID: os.Getpid(), Started: now.UTC().Truncate(time.Second)}
	o.Machine, o.Boot, o.PIDNS = thisMachine()
	return o
}

// String is the lock's content: space-separated key=value pairs, no quoting needed.
func (o Owner) String() string {
	s := fmt.Sprintf("run=%s controller=%s pid=%d started=%s", o.Run, clean(o.Controller), o.PID, o.Started.UTC().Format(time.RFC3339))
	for _, kv := range [][2]string{{"machine", o.Machine}, {"boot", o.Boot}, {"pidns", o.PIDNS}} {
		if kv[1] != "" {
			s += " " + kv[0] + "=" + clean(kv[1])
		}
	}
	return s
}

// clean keeps a field to one word of the lock line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '\'' {
			return '_'
		}
		return r
	}, s)
}

// ParseOwner reads a lock's content; fields it does not know are kept out, not refused.
func ParseOwner(s string) Owner {
	var o Owner
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "run":
			o.Run = v
		case "controller":
			o.Controller = v
		case "pid":
			o.PID, _ = strconv.Atoi(v)
		case "started":
			o.Started, _ = time.Parse(time.RFC3339, v)
		case "machine":
			o.Machine = v
		case "boot":
			o.Boot = v
		case "pidns":
			o.PIDNS = v
		}
	}
	return o
}

// Describe says who holds a lock, for refusals.
func (o Owner) Describe() string {
	return fmt.Sprintf("run %s of %s (pid %d), since %s", o.Run, o.Controller, o.PID, o.Started.Local().Format("2006-01-02 15:04:05"))
}

// Stale says whether the holder is known to be gone: a controller on this machine whose process
// no longer exists. A lock held from another machine cannot be checked from here; it is reported,
// and only an explicit unlock breaks it.
func (o Owner) Stale() (bool, string) {
	host, _ := os.Hostname()
	_, ctlHost, _ := strings.Cut(o.Controller, "@")
	machine, boot, pidns := thisMachine()
	remote := "held from " + o.Controller + ", which cannot be checked from here"
	// No machine id on either side (a container without /etc/machine-id): the boot and the PID
	// namespace below still say whether the PID is ours to check.
	if ctlHost != clean(host) || o.PID <= 0 || o.Machine != machine || (o.Machine == "" && o.Boot == "") {
		return false, remote
	}
	if o.Boot != "" && o.Boot != boot {
		return true, "its controller's machine has restarted since"
	}
	if o.PIDNS != pidns {
		return false, remote + " (another PID namespace: a container on this machine)"
	}
	if err := syscall.Kill(o.PID, 0); err == nil || err == syscall.EPERM {
		return false, fmt.Sprintf("its controller (pid %d on this machine) is still running", o.PID)
	}
	return true, fmt.Sprintf("its controller (pid %d on this machine) is gone", o.PID)
}
