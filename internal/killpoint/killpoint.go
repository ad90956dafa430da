// Package killpoint lets a test stop the process at a named point, to
// check what an interrupted run leaves behind. The environment variable
// CONVERGE_KILLPOINT (read once) names the point: "NAME" kills the process
// there with SIGKILL; "pause:NAME" prints "killpoint: paused at NAME" on
// stderr and blocks the calling goroutine there for ever, so that the
// test can send a signal of its choice. When the variable is unset, At
// does nothing.
package killpoint

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
)

// Env is the environment variable that names the point.
const Env = "CONVERGE_KILLPOINT"

var point = sync.OnceValue(func() string { return os.Getenv(Env) })

// At stops the process if name is the configured point.
func At(name string) {
	p := point()
	if p == "" {
		return
	}
	if p == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
	if rest, ok := strings.CutPrefix(p, "pause:"); ok && rest == name {
		fmt.Fprintf(os.Stderr, "killpoint: paused at %s\n", name)
		select {}
	}
}
