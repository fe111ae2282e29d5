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

// Owner is who holds a host's lock: the run, the controller (user@machine), its PID, since when.
type Owner struct {
	Run        string
	Controller string
	PID        int
	Started    time.Time
}

// Me is the owner line of a run started by this process.
func Me(run string, now time.Time) Owner {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return Owner{Run: run, Controller: name + "@" + host, PID: os.Getpid(), Started: now.UTC().Truncate(time.Second)}
}

// String is the lock's content: space-separated key=value pairs, no quoting needed.
func (o Owner) String() string {
	return fmt.Sprintf("run=%s controller=%s pid=%d started=%s", o.Run, clean(o.Controller), o.PID, o.Started.UTC().Format(time.RFC3339))
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
	if ctlHost != clean(host) || o.PID <= 0 {
		return false, "held from " + o.Controller + ", which cannot be checked from here"
	}
	if err := syscall.Kill(o.PID, 0); err == nil || err == syscall.EPERM {
		return false, fmt.Sprintf("its controller (pid %d on this machine) is still running", o.PID)
	}
	return true, fmt.Sprintf("its controller (pid %d on this machine) is gone", o.PID)
}
