package report

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/convergesim/converge/internal/killpoint"
)

// replace exchanges the temporary folder and the output folder in one
// renameat2(RENAME_EXCHANGE), then removes the temporary folder, which
// now holds the old report. Where the file system cannot exchange, it
// falls back to two renames (see replaceInTwo).
func (o *Output) replace() error {
	err := exchange(o.tmp, o.abs)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return o.replaceInTwo()
	}
	if err != nil {
		return fmt.Errorf("report: write %s: cannot replace the folder (is it a mount point?): %w; the new report is in %s", o.dir, err, o.tmp)
	}
	syncDir(o.parent)
	killpoint.At("report-exchanged")
	os.RemoveAll(o.tmp)
	return nil
}

// exchange is renameat2(RENAME_EXCHANGE); tests replace it.
var exchange = func(a, b string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
		return &os.LinkError{Op: "exchange", Old: a, New: b, Err: err}
	}
	return nil
}
