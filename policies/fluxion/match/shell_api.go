package match

// Accessors for the resource-query-style shell (cmd/sim/internal/rqshell),
// which, like flux-sched's resource-query, names the R reader explicitly
// where UpdateAllocate and PartialCancel pick it from the R document.

// R readers of InstallR and PartialCancelR (resource-query's update and
// partial-cancel "jgf" and "rv1exec").
const (
	ReaderJGF     = readJGF
	ReaderRV1Exec = readRV1Exec
)

// InstallR installs the R in data, read by reader (ReaderJGF or
// ReaderRV1Exec), as job jobID over [at, at+dur); reserved records the
// job as a reservation. It is resource-query's "update" (update_run):
// ErrInvalid for a malformed R or span, ErrBusy if the resources are not
// free over the span.
func (m *Matcher) InstallR(jobID uint64, reader string, data []byte, at, dur int64, reserved bool) (*Allocation, error) {
	return m.install(jobID, reader, data, at, dur, reserved)
}

// PartialCancelR releases the part of job jobID's allocation that the R
// in data, read by reader, names: resource-query's "partial-cancel".
// fullRemoval reports that nothing was left, so the job is gone.
func (m *Matcher) PartialCancelR(jobID uint64, reader string, data []byte) (fullRemoval bool, err error) {
	return m.partialCancel(jobID, reader, data)
}

// clip returns a user's argument for a message: as it is, or quoted and
// cut when it is long.
func clip(s string) string {
	if len(s) <= mmsgQuoteMax {
		return s
	}
	return mquoted(s)
}
