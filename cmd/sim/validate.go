package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/scenarios/calibrate"
)

type validateFlags struct {
	data, profiles, apps string
	seeds                int
	ci                   bool
	studies              []string
}

func newValidateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Compare whole simulated runs with recorded experiments they were not fitted to",
	}
	cmd.AddCommand(newValidateCanopieCmd())
	return cmd
}

func newValidateCanopieCmd() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "canopie22",
		Short: "Reproduce the canopie22 single-application MPIJobs under kube-scheduler and Fluence",
		Long: `Submit each canopie22 configuration (AMG, LAMMPS, QMCPACK on the 32-node
hpc6a cluster with two tainted launcher nodes) as one MPI job under the
scheduler that ran it — kube for default-scheduler, fluence (lonode) for
kubeflux — and compare the simulated start-up (job created → all pods
running), run time (all pods running → finished) and placement (distinct
nodes, most pods on a node) with that scheduler's logs. The application
model is refitted without the configuration (the held-out folds of sim fit
app), so the run time is a prediction; start-up and placement are not
fitted to these data at all. Naive baselines: the app problem's first
baseline for the run time, the mean start-up of the scheduler's other
configurations for the start-up.

--ci uses the cheaper fit procedure of the tests. Exit status: 0 on
success, 2 on bad input (missing data).`,
		Example: "  sim validate canopie22 --seeds 5",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, d := range [][2]string{{"data", f.data}, {"profiles", f.profiles}, {"apps", f.apps}} {
				if err := checkDir(d[0], d[1]); err != nil {
					return usageErr(err)
				}
			}
			for _, s := range f.studies {
				if !strings.Contains(strings.Join(calibrate.ReproStudies, " "), s) {
					return usageErr(fmt.Errorf("unknown study %q (valid: %s)", s, strings.Join(calibrate.ReproStudies, ", ")))
				}
			}
			if f.seeds < 1 || f.seeds > 1000 {
				return usageErr(fmt.Errorf("--seeds must be between 1 and 1000, got %d", f.seeds))
			}
			work, err := os.MkdirTemp("", "converge-canopie22-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(work)
			rep, err := calibrate.ReproduceCanopie(calibrate.Inputs{Data: f.data, Profiles: f.profiles, Apps: f.apps},
				calibrate.ReproOptions{CI: f.ci, Seeds: f.seeds, Studies: f.studies, Work: work})
			if err != nil {
				return usageErr(err)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), rep.Table())
			return err
		},
	}
	cmd.Flags().StringVar(&f.data, "data", "../shared/data", "the measurements (the shared data folder)")
	cmd.Flags().StringVar(&f.profiles, "profiles", "scenarios/profiles", "the network profiles folder")
	cmd.Flags().StringVar(&f.apps, "apps", "scenarios/apps", "the app model folder")
	cmd.Flags().IntVar(&f.seeds, "seeds", 3, "simulated runs per configuration and scheduler")
	cmd.Flags().BoolVar(&f.ci, "ci", false, "the cheaper fit procedure of the tests")
	cmd.Flags().StringSliceVar(&f.studies, "study", nil, "studies to reproduce (default: all of "+strings.Join(calibrate.ReproStudies, ", ")+")")
	return cmd
}
