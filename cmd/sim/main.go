// Command sim is converge's command line: run, check and inspect scenarios.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// newRoot builds the command tree (tests add commands to it).
var newRoot = newRootCmd

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status. A panic is
// a bug in converge, never the user's input: it exits with exitInternal
// and asks for a report.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "sim: internal error: %v\n\n%s\n", r, debug.Stack())
			fmt.Fprintf(stderr, "sim: this is a bug in converge (version %s), not a problem with your input; please report it with the command line and the scenario or input files.\n", versionString())
			code = exitInternal
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "sim:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}
