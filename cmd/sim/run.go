package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/scenarios"
)

type runFlags struct {
	out   string
	seed  uint64
	sets  []string
	force bool
	quiet bool
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

func load(cmd *cobra.Command, path string, sets []string, seed uint64) (*scenarios.Scenario, []byte, error) {
	if cmd.Flags().Changed("seed") {
		sets = append(sets, fmt.Sprintf("seed=%d", seed))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("cannot read scenario: %w", err))
	}
	sc, err := scenarios.Parse(path, data, scenarios.Overrides{Set: sets})
	if err != nil {
		return nil, nil, usageErr(err)
	}
	return sc, data, nil
}

func runScenario(cmd *cobra.Command, path string, f *runFlags) error {
	sc, data, err := load(cmd, path, f.sets, f.seed)
	if err != nil {
		return err
	}
	dir := f.out
	if dir == "" {
		dir = sc.Outputs.Dir
	}
	if dir == "" {
		dir = filepath.Join("out", sc.Name)
	}
	if err := report.CheckDir(dir, f.force); err != nil {
		return usageErr(err)
	}
	eng, err := scenarios.Build(sc)
	if err != nil {
		return usageErr(fmt.Errorf("%s: %w", path, err))
	}
	res, err := eng.Run()
	if err != nil {
		return failedErr(fmt.Errorf("run failed: %w", err))
	}
	meta := report.Meta{
		Scenario:       sc.Name,
		ScenarioPath:   path,
		ScenarioSHA256: report.HashScenario(data),
		Version:        versionString(),
		Settings:       map[string]string{},
	}
	for i, s := range f.sets {
		meta.Settings[fmt.Sprintf("set[%d]", i)] = s
	}
	if err := report.Write(dir, res, meta, report.Options{Force: f.force}); err != nil {
		if errors.Is(err, report.ErrNotEmpty) {
			return usageErr(err)
		}
		return failedErr(fmt.Errorf("writing the report: %w", err))
	}
	if !f.quiet {
		text, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
		if err != nil {
			return failedErr(err)
		}
		cmd.Print(string(text))
		cmd.Printf("\nreport written to %s\n", dir)
	}
	return nil
}

func newCheckCmd() *cobra.Command {
	var sets []string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "check SCENARIO",
		Short: "Validate a scenario without running it",
		Example: `  sim check scenarios/kube-basic.yaml
  sim check my.yaml --set cluster.pools[0].count=64`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, _, err := load(cmd, args[0], sets, seed)
			if err != nil {
				return err
			}
			if _, err := scenarios.Build(sc); err != nil {
				return usageErr(fmt.Errorf("%s: %w", args[0], err))
			}
			nodes := 0
			for _, p := range sc.Cluster.Pools {
				nodes += p.Count
			}
			cmd.Printf("%s: ok (scenario %q, %d nodes, %d workloads, policy %s, seed %d)\n",
				args[0], sc.Name, nodes, len(sc.Workloads), sc.Policy.Name, sc.Seed)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a scenario value: --set key=value (repeatable)")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed (overrides the scenario's seed)")
	return cmd
}
