package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/scenarios/calibrate"
	"github.com/convergesim/converge/workloads/apps"
)

// newFitModelCmds are the fits of the simulator's own models to
// ../shared/data: the application models, the start-up model and the
// Usernetes network stages. Their logic lives in scenarios/calibrate.
func newFitModelCmds() []*cobra.Command {
	return []*cobra.Command{newFitAppCmd(), newFitStartupCmd(), newFitStagesCmd()}
}

type fitAppFlags struct {
	data, profiles, apps, out string
	force, ci, noHoldout      bool
}

func newFitAppCmd() *cobra.Command {
	var f fitAppFlags
	var names []string
	for _, p := range calibrate.AppProblems() {
		names = append(names, p.Name)
	}
	cmd := &cobra.Command{
		Use:   "app APP/FIT [-o scenarios/apps/APP.yaml]",
		Short: "Fit an application model to its data set and measure how well it predicts",
		Long: `Fit one parameter set of an application model (workloads/apps) to the
measurements it comes from, from the untouched start values in
scenarios/calibrate, and report:

  in-sample    the error on the very runs fitted (how well it fits);
  held-out     each fold of the data set predicted by the same procedure
               run without that fold, from the untouched start values,
               next to naive baselines fitted on the same folds (how well
               it predicts, and what the model adds);
  spread       every parameter's range over refits from several starting
               points, and a two-point profile (fixed at half and twice
               its value, the rest refitted): a parameter that fits as
               well either way is NOT identified by the data.

Fits: ` + strings.Join(names, ", ") + `.

With -o the parameter set, with this provenance, is written into the
AppModel file (its other fits are kept; replacing an existing file needs
--force). The file is written atomically. --ci runs the cheaper procedure
the tests run (go test ./scenarios/calibrate). Exit status: 0 on success,
2 on bad input (unknown fit, missing or malformed data), 1 when the file
cannot be written.`,
		Example: `  sim fit app lammps/hpc7g-efa
  sim fit app amg/hpc6a-efa -o scenarios/apps/amg.yaml --force`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("fit app needs one fit (%s)\nUsage: %s", strings.Join(names, ", "), cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runFitApp(cmd, args[0], &f) },
	}
	cmd.Flags().StringVar(&f.data, "data", "../shared/data", "the measurements (the shared data folder)")
	cmd.Flags().StringVar(&f.profiles, "profiles", "scenarios/profiles", "the network profiles folder")
	cmd.Flags().StringVar(&f.apps, "apps", "scenarios/apps", "the app model folder (for predictions that combine fits)")
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "AppModel file to write the fit into (default: write nothing)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace an existing output file (its other fits are kept)")
	cmd.Flags().BoolVar(&f.ci, "ci", false, "run the cheaper procedure of the tests instead of the full one")
	cmd.Flags().BoolVar(&f.noHoldout, "no-holdout", false, "skip the held-out cross-validation")
	return cmd
}

func checkDir(flag, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--%s: %s is not a folder", flag, path)
	}
	return nil
}

func runFitApp(cmd *cobra.Command, name string, f *fitAppFlags) error {
	p, err := calibrate.LookupAppProblem(name)
	if err != nil {
		return usageErr(err)
	}
	for _, d := range [][2]string{{"data", f.data}, {"profiles", f.profiles}, {"apps", f.apps}} {
		if err := checkDir(d[0], d[1]); err != nil {
			return usageErr(err)
		}
	}
	var base *apps.File
	if f.out != "" {
		if err := checkOutputFile(f.out, f.force); err != nil {
			return usageErr(err)
		}
		if b, err := scenarios.LoadAppModel(f.out); err == nil {
			base = b
		} else if !errors.Is(err, fs.ErrNotExist) {
			return usageErr(err)
		}
	}
	d, err := p.Load(calibrate.Inputs{Data: f.data, Profiles: f.profiles, Apps: f.apps})
	if err != nil {
		return usageErr(err)
	}
	o := p.Full
	if f.ci {
		o = p.CI
	}
	w := cmd.OutOrStdout()
	var cv *calibrate.CVResult
	if !f.noHoldout {
		if cv, err = d.CrossValidate(o); err != nil {
			return failedErr(err)
		}
	}
	res, err := d.FitAll(o, fitAppCommand(name, f), cv)
	if err != nil {
		return failedErr(err)
	}
	fmt.Fprintf(w, "%s: %s\n\n", p.Name, o)
	fmt.Fprint(w, res.InSample.Table(p.Title))
	fmt.Fprintf(w, "\nstarting points (objective: weighted mean relative error; * the fit):\n%s", res.StartsTable())
	fmt.Fprintf(w, "\nparameters (range over the starts within %.0f%% of the best objective):\n%s", 100*o.FitTolerance(), calibrate.SpreadTable(res.Spread))
	for _, k := range p.ProfileKnobs {
		if rows, ok := res.Profiles[k]; ok {
			fmt.Fprintf(w, "\nprofile of %s (fixed, the rest refitted):\n%s", k, calibrate.ProfileTable(k, rows, res.Starts[res.Best].Objective))
		}
	}
	if cv != nil {
		fmt.Fprintf(w, "\n%s", cv.Table())
	}
	if f.out == "" {
		return nil
	}
	file, err := calibrate.WithFit(base, p.App, res.Fit)
	if err != nil {
		return usageErr(fmt.Errorf("%s: %w", f.out, err))
	}
	data, err := calibrate.RenderAppFile(f.out, file)
	if err != nil {
		return failedErr(err)
	}
	if err := writeFitOutput(w, f.out, data, f.force); err != nil {
		return err
	}
	return nil
}

// fitAppCommand is the command line that regenerates the fit, for its
// provenance.
func fitAppCommand(name string, f *fitAppFlags) string {
	parts := []string{"sim", "fit", "app", shellQuote(name)}
	if f.data != "../shared/data" {
		parts = append(parts, "--data", shellQuote(f.data))
	}
	if f.ci {
		parts = append(parts, "--ci")
	}
	if f.out != "" {
		parts = append(parts, "-o", shellQuote(f.out), "--force")
	}
	return strings.Join(parts, " ")
}

// writeFitOutput writes a fit's file atomically (never over an existing
// file without force) and says so.
func writeFitOutput(w io.Writer, path string, data []byte, force bool) error {
	if err := writeFileAtomic(path, data, force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageErr(err)
		}
		return failedErr(err)
	}
	fmt.Fprintf(w, "\nwritten to %s\n", path)
	return nil
}

type fitStartupFlags struct {
	podTimes, pullTimes, cloud, container, out string
	force, ci, noHoldout, cold                 bool
}

func newFitStartupCmd() *cobra.Command {
	var f fitStartupFlags
	cmd := &cobra.Command{
		Use:   "startup SCENARIO (--pod-times FILE | --pull-times FILE) [-o OUT.yaml]",
		Short: "Fit the start-up model of a scenario to pod start-up or image-pull measurements",
		Long: `Fit the node-agent start-up model (docs/startup-model.md) of a scenario
to measurements, and report the in-sample error, the held-out error of
the procedure (leave one size out, each fold from the untouched start
values, next to naive baselines fitted on the same folds) and the spread
of every parameter.

  --pod-times FILE   the pod start-up study (pod-times.csv): fits the
                     study's client rate, the create latency, the sandbox,
                     the manifest check and the pod worker delay;
  --pull-times FILE  the performance study's per-node pull times: fits
                     the node and registry bandwidths and the pull
                     overhead, on one series (--cloud, --container).

The fit starts from the untouched start values in scenarios/calibrate
and, unless --cold, also from the scenario's own values (the held-out
folds never do). With -o the scenario is written with the fitted values
and a provenance that records the command, the data and every figure
(comments and the rest of the file are kept; atomically; an existing file
is replaced only with --force). --ci runs the tests' cheaper procedure.
Exit status: 0 on success, 2 on bad input, 1 when the file cannot be
written.`,
		Example: `  sim fit startup scenarios/pod-startup.yaml --pod-times ../shared/data/pod-startup/pod-times.csv
  sim fit startup scenarios/image-pull.yaml --pull-times ../shared/data/pod-startup/lammps-pull-times.csv \
      -o scenarios/image-pull.yaml --force`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("fit startup needs one scenario\nUsage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runFitStartup(cmd, args[0], &f) },
	}
	cmd.Flags().StringVar(&f.podTimes, "pod-times", "", "pod start-up study CSV (pod-times.csv)")
	cmd.Flags().StringVar(&f.pullTimes, "pull-times", "", "per-node image pull times CSV (lammps-pull-times.csv)")
	cmd.Flags().StringVar(&f.cloud, "cloud", "google", "with --pull-times: the series' cloud")
	cmd.Flags().StringVar(&f.container, "container", "ghcr.io/converged-computing/metric-lammps-cpu:zen4", "with --pull-times: the series' container")
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "scenario file to write with the fitted values (default: write nothing)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace an existing output file")
	cmd.Flags().BoolVar(&f.ci, "ci", false, "run the cheaper procedure of the tests instead of the full one")
	cmd.Flags().BoolVar(&f.noHoldout, "no-holdout", false, "skip the held-out cross-validation")
	cmd.Flags().BoolVar(&f.cold, "cold", false, "start only from the untouched start values, not from the scenario's")
	return cmd
}

func runFitStartup(cmd *cobra.Command, scenario string, f *fitStartupFlags) error {
	if (f.podTimes == "") == (f.pullTimes == "") {
		return usageErr(errors.New("fit startup needs exactly one of --pod-times FILE and --pull-times FILE"))
	}
	if f.out != "" {
		if err := checkOutputFile(f.out, f.force); err != nil {
			return usageErr(err)
		}
	}
	data, err := scenarios.ReadScenario(scenario)
	if err != nil {
		return usageErr(err)
	}
	if _, err := scenarios.Parse(scenario, data, scenarios.Overrides{IgnoreEnv: true}); err != nil {
		return usageErr(err)
	}
	w := cmd.OutOrStdout()
	var r *calibrate.StartupFitReport
	if f.podTimes != "" {
		cases, sum, err := calibrate.ReadPodStartupCases(f.podTimes)
		if err != nil {
			return usageErr(err)
		}
		o := calibrate.PodStartupFull
		if f.ci {
			o = calibrate.PodStartupCI
		}
		fmt.Fprintf(w, "pod start-up: %s\n\n", o)
		r, err = calibrate.FitPodStartupScenario(scenario, data, cases, dataRel(f.podTimes), sum, fitStartupCommand(scenario, f), o, !f.cold, !f.noHoldout)
		if err != nil {
			return failedErr(err)
		}
		fmt.Fprintf(w, "IN-SAMPLE (the runs fitted):\n%s", r.InSample)
	} else {
		cases, sum, err := calibrate.ReadPullCases(f.pullTimes, f.cloud, f.container)
		if err != nil {
			return usageErr(err)
		}
		o := calibrate.PullFull
		if f.ci {
			o = calibrate.PullCI
		}
		fmt.Fprintf(w, "image pulls: %s\n\n", calibrate.PullMethod(o, 0))
		series := fmt.Sprintf("cloud %s, container %s", f.cloud, f.container)
		r, err = calibrate.FitPullScenario(scenario, data, cases, dataRel(f.pullTimes), sum, series, fitStartupCommand(scenario, f), o, !f.cold, !f.noHoldout)
		if err != nil {
			return failedErr(err)
		}
		fmt.Fprintf(w, "IN-SAMPLE (the sizes fitted):\n%s", r.InSample)
	}
	fmt.Fprintf(w, "\nstarting points (objective in seconds; * the fit):\n%s", r.Fit.StartsTable("s"))
	fmt.Fprintf(w, "\nparameters:\n%s", calibrate.SpreadTable(r.Fit.Spread))
	if r.CV != nil {
		fmt.Fprintf(w, "\n%s", r.CV.Table())
	}
	if f.out == "" {
		return nil
	}
	return writeFitOutput(w, f.out, r.Scenario, f.force)
}

// dataRel names a data file as the provenance records it: under
// ../shared/data when it is there.
func dataRel(path string) string {
	p := filepath.ToSlash(filepath.Clean(path))
	if i := strings.Index(p, "shared/data/"); i >= 0 {
		return "../" + p[i:]
	}
	return p
}

func fitStartupCommand(scenario string, f *fitStartupFlags) string {
	parts := []string{"sim", "fit", "startup", shellQuote(scenario)}
	if f.podTimes != "" {
		parts = append(parts, "--pod-times", shellQuote(f.podTimes))
	} else {
		parts = append(parts, "--pull-times", shellQuote(f.pullTimes), "--cloud", shellQuote(f.cloud), "--container", shellQuote(f.container))
	}
	if f.ci {
		parts = append(parts, "--ci")
	}
	if f.cold {
		parts = append(parts, "--cold")
	}
	if f.out != "" {
		parts = append(parts, "-o", shellQuote(f.out), "--force")
	}
	return strings.Join(parts, " ")
}

type fitStagesFlags struct {
	lammps, out string
	force       bool
}

func newFitStagesCmd() *cobra.Command {
	var f fitStagesFlags
	cmd := &cobra.Command{
		Use:   "stages MEASURED_DIR -o PROFILES_DIR",
		Short: "Fit the Usernetes network stages (VXLAN, slirp4netns) to this machine's measurements",
		Long: `Fit the stages Usernetes puts on every packet — flannel VXLAN, and
slirp4netns out of one node's namespace and into the other's — to the
ping, iperf3 and /proc measurements make measure-network records
(scenarios/network/measured), and write three transport profiles on the
lammps-stream-ml VMs' TCP (the vm8-tcp fit of --lammps): vm-tcp.yaml,
vm-tcp-usernetes.yaml and vm-tcp-usernetes-bypass4netns.yaml into
PROFILES_DIR. Each file is written atomically; existing ones are
replaced only with --force. Exit status: 0 on success, 2 on bad input,
1 when a file cannot be written.`,
		Example: `  sim fit stages scenarios/network/measured -o scenarios/profiles --force`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("fit stages needs the measurement folder\nUsage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runFitStages(cmd, args[0], &f) },
	}
	cmd.Flags().StringVar(&f.lammps, "lammps", "scenarios/apps/lammps.yaml", "the LAMMPS app model file holding the vm8-tcp fit")
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "folder to write the three profiles into (required)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace existing profile files")
	return cmd
}

func runFitStages(cmd *cobra.Command, dir string, f *fitStagesFlags) error {
	if f.out == "" {
		return usageErr(errors.New("fit stages needs -o PROFILES_DIR"))
	}
	if err := checkDir("output", f.out); err != nil {
		return usageErr(err)
	}
	if err := checkDir("measured", dir); err != nil {
		return usageErr(err)
	}
	if _, err := limitio.ReadFile(f.lammps, limitio.Profile, "app model"); err != nil {
		return usageErr(fmt.Errorf("--lammps: %w", err))
	}
	files, u, err := calibrate.UsernetesProfileFiles(dir, f.lammps)
	if err != nil {
		return usageErr(err)
	}
	for _, pf := range files {
		if err := checkOutputFile(filepath.Join(f.out, pf.Name), f.force); err != nil {
			return usageErr(err)
		}
	}
	w := cmd.OutOrStdout()
	fmt.Fprint(w, u.Table())
	for _, pf := range files {
		if err := writeFitOutput(w, filepath.Join(f.out, pf.Name), pf.Data, f.force); err != nil {
			return err
		}
	}
	return nil
}
