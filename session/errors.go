package session

import (
	"fmt"
	"strings"
)

// UnsafeStateError is a host whose state directory (/var/lib/frontdoor) is not a root-owned 0700
// directory: journals and backups hold passwords and decide what a rollback replays, so nothing
// is kept, locked or changed there until it is fixed.
type UnsafeStateError struct {
	Host     string
	Problems []string
}

func (e *UnsafeStateError) Error() string {
	fix := "make it a directory owned by root with mode 700 (chown root:root, chmod 700), or remove it"
	if strings.Contains(strings.Join(e.Problems, " "), `C:\`) {
		// Windows (folders made by earlier versions inherit ProgramData's ACL).
		fix = `give it to SYSTEM and Administrators only (icacls C:\ProgramData\frontdoor /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F), or remove it`
	}
	return fmt.Sprintf("%s: frontdoor's state directory is unsafe: %s; %s", e.Host, strings.Join(e.Problems, "; "), fix)
}

// UnfinishedError is a run whose journal on the host says it did not finish (applying, or a
// rollback that failed): the host must not be changed again until that run is undone. Dir, when
// known, is where its journal is.
type UnfinishedError struct {
	Host, Run, State, Dir string
}

func (e *UnfinishedError) Error() string {
	if e.Dir == "" {
		return fmt.Sprintf("run %s did not finish here (%s)", e.Run, e.State)
	}
	return fmt.Sprintf("%s: run %s did not finish here (its journal in %s says %s)", e.Host, e.Run, e.Dir, e.State)
}
