// Package fleet owns runs over many hosts: run ids, the lock each host holds for a run, the
// journal each host keeps of a run (so a run can be undone after its controller died), rolling
// batches gated on verified hosts with a failure threshold and batch rollback, the events a run
// emits (text, JSON lines, live progress and the ledger all read them), and undoing a past run.
package fleet
