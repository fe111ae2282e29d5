package fleet

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestBatches(t *testing.T) {
	for _, c := range []struct {
		serial string
		n      int
		want   string
	}{
		{"", 5, "[5]"},
		{"2", 5, "[2 2 1]"},
		{"25%", 8, "[2 2 2 2]"},
		{"1,10%,100%", 20, "[1 2 17]"},
		{"1,50%", 4, "[1 2 1]"},
		{"10%", 3, "[1 1 1]"}, // at least one host
		{"100", 3, "[3]"},
	} {
		sizes, err := ParseSerial(c.serial)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(Batches(c.n, sizes)); got != c.want {
			t.Errorf("--serial %q of %d hosts: %s, want %s", c.serial, c.n, got, c.want)
		}
	}
	for _, bad := range []string{"0", "x", "150%", "-1", "1,,2"} {
		if _, err := ParseSerial(bad); err == nil {
			t.Errorf("--serial %q accepted", bad)
		}
	}
}

func TestMaxFail(t *testing.T) {
	for _, c := range []struct {
		max          string
		failed, size int
		want         bool
	}{
		{"25%", 1, 2, true},
		{"25%", 0, 2, false},
		{"50%", 1, 2, false},
		{"50%", 2, 3, true},
		{"0", 1, 10, true},
		{"0%", 0, 10, false},
		{"1", 1, 10, false},
		{"100%", 10, 10, false},
	} {
		s, err := ParseSize(c.max)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Exceeded(c.failed, c.size); got != c.want {
			t.Errorf("--max-fail %s, %d of %d failed: exceeded=%v", c.max, c.failed, c.size, got)
		}
	}
}

func TestOwnerRoundTrip(t *testing.T) {
	o := Owner{Run: NewRunID(mustTime("2026-11-27T09:15:00Z")), Controller: "ops user@ctl", PID: 42, Started: mustTime("2026-11-27T09:15:00Z")}
	got := ParseOwner(o.String())
	if got.Run != o.Run || got.Controller != "ops_user@ctl" || got.PID != 42 || !got.Started.Equal(o.Started) {
		t.Fatalf("%+v from %q", got, o.String())
	}
	if !ValidRunID(o.Run) || ValidRunID("../../etc") || ValidRunID("20261127T091500Z-zzzzzz") {
		t.Fatal("ValidRunID")
	}
	// A controller on this machine whose PID is gone is stale; one from elsewhere is not decided.
	me := Me(o.Run, o.Started)
	me.PID = 1 << 22 // above pid_max's default, so no such process
	if stale, why := me.Stale(); !stale {
		t.Fatalf("dead local controller not stale: %s", why)
	}
	if stale, _ := Me(o.Run, o.Started).Stale(); stale {
		t.Fatal("this very process reported dead")
	}
	if stale, _ := o.Stale(); stale {
		t.Fatal("a remote controller reported dead")
	}
	// Same host name, but another machine or another PID namespace (containers, CI runners with
	// one name): the PID means nothing here, so the lock is not judged stale.
	for _, other := range []func(*Owner){func(o *Owner) { o.Machine = "0123456789abcdef" }, func(o *Owner) { o.PIDNS = "pid:[1]" }, func(o *Owner) { o.Machine = "" }} {
		twin := me
		other(&twin)
		if stale, why := twin.Stale(); stale {
			t.Errorf("%+v judged stale: %s", twin, why)
		}
	}
	rebooted := me
	rebooted.PID, rebooted.Boot = os.Getpid(), "00000000-0000-0000-0000-000000000000"
	if stale, _ := rebooted.Stale(); !stale {
		t.Error("a controller from before this machine's restart is not stale")
	}
	if got := ParseOwner(me.String()); got != me {
		t.Errorf("round trip: %+v != %+v", got, me)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
