package report

import (
	"fmt"
	"os"

	"github.com/convergesim/converge/internal/killpoint"
)

// replaceInTwo replaces the output folder by the temporary one in two
// renames: the old report to .BASE.old-*, the new one in. Between them the
// folder is missing; a run killed there leaves the old report complete
// in .BASE.old-*, and the next run into the folder puts it back
// (cleanStale) before doing anything.
func (o *Output) replaceInTwo() error {
	old, err := os.MkdirTemp(o.parent, "."+o.base+".old-")
	if err != nil {
		return fmt.Errorf("report: write %s: %w", o.dir, err)
	}
	if err := os.Remove(old); err != nil { // only the unique name is wanted
		return fmt.Errorf("report: write %s: %w", o.dir, err)
	}
	if err := rename(o.abs, old); err != nil {
		return fmt.Errorf("report: write %s: %w", o.dir, err)
	}
	killpoint.At("report-moved-aside")
	if err := rename(o.tmp, o.abs); err != nil {
		if rerr := rename(old, o.abs); rerr != nil {
			return fmt.Errorf("report: write %s: %w (and the earlier report could not be put back from %s: %v)", o.dir, err, old, rerr)
		}
		return fmt.Errorf("report: write %s: %w", o.dir, err)
	}
	syncDir(o.parent)
	os.RemoveAll(old)
	return nil
}
