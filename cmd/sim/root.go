package main

import (
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitFailed = 1 // the run itself failed
	exitUsage  = 2 // bad input: usage, scenario, or output folder
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

Exit status: 0 on success, 2 on bad input or usage, 1 when a run fails.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(err)
	})
	root.AddCommand(newRunCmd(), newCheckCmd(), newVersionCmd(), newFluxionCmd())
	root.AddCommand(newFitCmd())
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
