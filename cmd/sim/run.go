package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/scenarios"
)

type runFlags struct {
	out    string
	seed   uint64
	sets   []string
	force  bool
	quiet  bool
	limits limitFlags
	// cpuProfile: write a pprof CPU profile of the whole command here
	// (hidden flag, for measuring converge itself).
	cpuProfile string
	// exports are the trace formats the simulated run is also written
	// in (DIR/<format><ext>).
	exports []string
	// progress shows the run's progress on stderr when it is a terminal.
	progress bool
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run a scenario and write its report",
		Long: `Run a scenario and write summary.txt, results.json, jobs.csv, pods.csv and
events.jsonl into the output folder, then print the summary.

Values in the scenario can be overridden with --set (highest precedence)
or SIM_ environment variables (SIM_SEED=7; nested keys joined with "__",
list indexes as numbers: SIM_CLUSTER__POOLS__0__COUNT=32).`,
		Example: `  sim run scenarios/kube-basic.yaml
  sim run scenarios/kube-basic.yaml -o out/spread --seed 7
  sim run scenarios/kube-basic.yaml --set policy.kube.scoringStrategy.type=MostAllocated --force
  SIM_CLUSTER__POOLS__0__COUNT=32 sim run scenarios/kube-basic.yaml -o out/big`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, args[0], &f)
		},
	}
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "output folder (default: the scenario's outputs.dir, else out/<name>)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "random seed (overrides the scenario's seed)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario value: --set key=value (repeatable)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace the files of an existing output folder")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "do not print the summary")
	addLimitFlags(cmd, &f.limits)
	addExportFlag(cmd, &f)
	cmd.Flags().StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (go tool pprof) to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	return cmd
}

// exactArgs is cobra.ExactArgs with a usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr(fmt.Errorf("%s needs exactly %d argument(s), got %d\nUsage: %s", cmd.Name(), n, len(args), cmd.UseLine()))
		}
		return nil
	}
}

func runScenario(cmd *cobra.Command, path string, f *runFlags) error {
	f.progress = !f.quiet
	_, summary, dir, err := runReport(cmd, path, f)
	if err != nil {
		return err
	}
	if !f.quiet {
		cmd.Print(string(summary))
		cmd.Printf("\nreport written to %s\n", dir)
	}
	return nil
}

// runReport runs a scenario and writes its report: the result, the
// summary's text and the output folder.
func runReport(cmd *cobra.Command, path string, f *runFlags) (res *engine.Result, summary []byte, dir string, err error) {
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return nil, nil, "", usageErr(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return nil, nil, "", usageErr(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer pprof.StopCPUProfile()
	}
	sc, data, err := loadScenario(cmd, path, f.sets, f.seed, &f.limits)
	if err != nil {
		return nil, nil, "", err
	}
	return runLoaded(cmd, path, sc, data, f)
}

// runLoaded runs a loaded scenario (data: the file's bytes, for the
// report's hash) and writes its report into f.out.
func runLoaded(cmd *cobra.Command, path string, sc *scenarios.Scenario, data []byte, f *runFlags) (res *engine.Result, summary []byte, dir string, err error) {
	dir = f.out
	if dir == "" {
		dir = sc.Outputs.Dir
	}
	if dir == "" {
		dir = filepath.Join("out", sc.Name)
	}
	exports, err := exportFormats(f.exports)
	if err != nil {
		return nil, nil, "", usageErr(err)
	}
	eng, err := scenarios.Build(sc)
	if err != nil {
		return nil, nil, "", usageErr(fmt.Errorf("%s: %w", path, err))
	}
	// The output folder is checked, locked and prepared before anything
	// is simulated; on any failure or signal its temporary folder goes.
	out, err := report.Open(dir, report.Options{Force: f.force})
	if err != nil {
		return nil, nil, "", usageErr(err)
	}
	defer out.Abort() // a no-op once committed
	stop := abortOnSignal(out, cmd.ErrOrStderr())
	defer stop()
	if sc.Outputs.Events == nil || *sc.Outputs.Events {
		ew, err := out.Events()
		if err != nil {
			return nil, nil, "", failedErr(err)
		}
		eng.SetSink(ew)
	}
	pw, err := out.Pods()
	if err != nil {
		return nil, nil, "", failedErr(err)
	}
	eng.SetPodSink(pw)
	progressDone := func() {}
	if f.progress {
		progressDone = runProgress(eng, cmd.ErrOrStderr())
	}
	res, err = eng.Run()
	progressDone()
	if err != nil {
		var se *engine.SinkError
		if errors.As(err, &se) {
			file := report.EventsFile
			if se.Pods {
				file = report.PodsFile
			}
			return nil, nil, "", failedErr(fmt.Errorf("run stopped: %s: %w", filepath.Join(dir, file), se.Err))
		}
		return nil, nil, "", failedErr(fmt.Errorf("run failed (a bug in converge: please report it with the scenario): %w", err))
	}
	if err := sc.WorkflowErr(); err != nil {
		return nil, nil, "", failedErr(fmt.Errorf("%s: %w", path, err))
	}
	meta := report.Meta{
		Workflows:      sc.WorkflowReport(),
		Scenario:       sc.Name,
		ScenarioPath:   path,
		ScenarioSHA256: report.HashScenario(data),
		Version:        versionString(),
		// Every override (--set, --seed, SIM_ variables), in the order
		// applied: they change results, so the report records them.
		Settings:                 overrideSettings(sc),
		BoundedSlowdownThreshold: sc.Outputs.BoundedSlowdownThreshold,
	}
	summary, err = out.Commit(res, meta)
	if err != nil {
		return nil, nil, "", failedErr(fmt.Errorf("writing the report: %w", err))
	}
	if err := writeExports(dir, res, exports); err != nil {
		return nil, nil, "", failedErr(err)
	}
	return res, summary, dir, nil
}

// abortOnSignal removes the unfinished report and exits 128+signal when
// the process is interrupted or terminated. The returned function stops
// watching.
func abortOnSignal(out *report.Output, errOut io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			out.Abort()
			fmt.Fprintf(errOut, "sim: stopped by %v; the unfinished report was removed and %s is as it was\n", s, out.Dir())
			code := 128
			if n, ok := s.(syscall.Signal); ok {
				code += int(n)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

func newCheckCmd() *cobra.Command {
	var sets []string
	var seed uint64
	var limits limitFlags
	cmd := &cobra.Command{
		Use:   "check SCENARIO",
		Short: "Validate a scenario without running it",
		Example: `  sim check scenarios/kube-basic.yaml
  sim check my.yaml --set cluster.pools[0].count=64`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, _, err := loadScenario(cmd, args[0], sets, seed, &limits)
			if err != nil {
				return err
			}
			if _, err := scenarios.Build(sc); err != nil {
				return usageErr(fmt.Errorf("%s: %w", args[0], err))
			}
			size := scenarios.Estimate(sc)
			cmd.Printf("%s: ok (scenario %q, %d nodes, %d workloads, policy %s, seed %d)\n",
				args[0], sc.Name, size.Nodes, len(sc.Workloads), sc.Policy.Name, sc.Seed)
			cmd.Printf("estimated: %s\n", size)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a scenario value: --set key=value (repeatable)")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed (overrides the scenario's seed)")
	addLimitFlags(cmd, &limits)
	return cmd
}
