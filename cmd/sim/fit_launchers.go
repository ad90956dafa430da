package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/scenarios/calibrate"
)

type fitLaunchersFlags struct {
	data, out string
	force     bool
}

func newFitLaunchersCmd() *cobra.Command {
	var f fitLaunchersFlags
	cmd := &cobra.Command{
		Use:   "launchers [-o scenarios/launchers/launchers.yaml]",
		Short: "Fit the launchers' start-up costs (MPI Operator, Flux Operator) to the operator-bootstrap data",
		Long: `Fit the start-up models of workloads/launchers to the operator-bootstrap
runs (LAMMPS launched by the MPI Operator and by the Flux Operator on
the same cluster at 8 and 16 nodes): mpirun's time outside the
application and the MPIJob's end-to-end time outside mpirun; the Flux
job's time outside the application and flux start's time outside the
job. Each interval's parameters are fitted by maximum likelihood, from
the untouched start values in scenarios/calibrate, and reported as:

  in-sample  the runs fitted (both sizes), labelled so;
  held-out   each size predicted by the same procedure fitted to the
             other size only, next to the naive baseline (the fitted
             size's runs: their mean, and their quantiles);
  spread     each parameter's range over refits that fit as well and a
             two-point profile: a parameter that fits as well at half or
             twice its value is NOT identified by the data.

With -o the LauncherModel file is written (atomically; an existing file
is replaced only with --force): the MPIJob and MiniCluster fits with
their provenance, and the PyTorchJob (assumed, no data) and Indexed Job
entries. Exit status: 0 on success, 2 on bad input (missing or malformed
data), 1 when the file cannot be written.`,
		Example: `  sim fit launchers
  sim fit launchers -o scenarios/launchers/launchers.yaml --force`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageErr(fmt.Errorf("fit launchers takes no arguments\nUsage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runFitLaunchers(cmd, &f) },
	}
	cmd.Flags().StringVar(&f.data, "data", "../shared/data", "the measurements (the shared data folder)")
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "LauncherModel file to write (default: write nothing)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace an existing output file")
	return cmd
}

func runFitLaunchers(cmd *cobra.Command, f *fitLaunchersFlags) error {
	if err := checkDir("data", f.data); err != nil {
		return usageErr(err)
	}
	if f.out != "" {
		if err := checkOutputFile(f.out, f.force); err != nil {
			return usageErr(err)
		}
	}
	path := filepath.Join(f.data, "operator-bootstrap", "results-8-16-nodes.csv")
	runs, sum, err := calibrate.ReadOperatorBootstrap(path)
	if err != nil {
		return usageErr(err)
	}
	cases, err := calibrate.LauncherCases(runs)
	if err != nil {
		return usageErr(fmt.Errorf("%s: %w", path, err))
	}
	o := calibrate.LauncherFitOptions
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "launchers: %s\n\n", o)
	fit, err := calibrate.FitLauncherSet(cases, calibrate.LauncherStart, o, true)
	if err != nil {
		return failedErr(err)
	}
	set := calibrate.RoundedSet(fit.Set)
	in, err := calibrate.LauncherInSample(&set, cases)
	if err != nil {
		return failedErr(err)
	}
	cv, err := calibrate.LauncherCV(cases, o)
	if err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(w, "IN-SAMPLE (the runs fitted):\n%s", in.Table())
	fmt.Fprintf(w, "\nstarting points (objective: negative log-likelihood; * the fit):\n%s", fit.StartsTable())
	fmt.Fprintf(w, "\nparameters (range over the refits that fit as well):\n%s", fit.SpreadTable())
	fmt.Fprintf(w, "\nHELD OUT:\n%s", cv.Table())
	if f.out == "" {
		return nil
	}
	file := calibrate.BuildLauncherFile(fit, in, cv, dataRel(path), sum, fitLaunchersCommand(f))
	data, err := calibrate.RenderLauncherFile(f.out, file)
	if err != nil {
		return failedErr(err)
	}
	return writeFitOutput(w, f.out, data, f.force)
}

func fitLaunchersCommand(f *fitLaunchersFlags) string {
	parts := []string{"sim", "fit", "launchers"}
	if f.data != "../shared/data" {
		parts = append(parts, "--data", shellQuote(f.data))
	}
	if f.out != "" {
		parts = append(parts, "-o", shellQuote(f.out), "--force")
	}
	return strings.Join(parts, " ")
}
