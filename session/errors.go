package session

import "fmt"

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
