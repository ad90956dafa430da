package main

import (
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes (README "Exit status").
const (
	exitOK       = 0
	exitFailed   = 1 // the run failed: an engine invariant was violated, or its report could not be written
	exitUsage    = 2 // bad input: usage, scenario, input files, or output folder; found before any simulation
	exitInternal = 3 // a bug in converge (a panic); the message asks for a report
	// Killed by a signal: 128 + the signal number (130 for SIGINT, 143
	// for SIGTERM), after the unfinished report was removed.
)

// exitError carries an exit code with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error  { return &exitError{exitUsage, err} }
func failedErr(err error) error { return &exitError{exitFailed, err} }

func newRootCmd(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "sim",
		Short: "converge: a discrete-event simulator of scheduling on converged HPC and cloud clusters",
		Long: `converge simulates Kubernetes and HPC schedulers on a modelled cluster:
pod start-up (bind, sandbox, image pulls), the default kube-scheduler's
queue and scoring, and the jobs' start-up delays, waits and makespan.

Exit status: 0 on success; 2 on bad input or usage (found before anything
is simulated); 1 when a run fails (an engine invariant was violated, or the
report could not be written); 3 on an internal error (a bug: please report
it); 128+N when stopped by signal N (the unfinished report is removed).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(err)
	})
	root.AddCommand(newRunCmd(), newCheckCmd(), newVersionCmd(), newFluxionCmd())
	root.AddCommand(newFitCmd(), newValidateCmd(), newCompareCmd(), newTraceCmd(), newReplayCmd(), newSweepCmd())
	return root
}

// versionString is the build's version: the -ldflags value, else the
// module version or VCS revision recorded by the Go toolchain.
func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v = "devel+" + s.Value[:12]
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return v
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Printf("sim %s\n", versionString())
			return nil
		},
	}
}
