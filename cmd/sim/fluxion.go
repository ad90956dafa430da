package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/cmd/sim/internal/rqshell"
	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/match"
)

type fluxionFlags struct {
	load   string
	policy string
	prune  string
	format string
	prompt bool
}

func newFluxionCmd() *cobra.Command {
	var f fluxionFlags
	cmd := &cobra.Command{
		Use:   "fluxion --load GRAPH.json",
		Short: "Match jobspecs against a resource graph, like flux-sched's resource-query",
		Long: `Load a JGF resource graph into converge's model of Fluxion's matcher and read
commands from standard input, one per line, in the style of flux-sched's
resource-query, so that a session can be compared with the real tool line
by line. Blank lines and lines starting with # are ignored.

Commands (abbreviation in parentheses):
  match (m) OP JOBSPEC     OP: allocate, allocate_with_satisfiability,
                           allocate_orelse_reserve, satisfiability,
                           without_allocating, without_allocating_future;
                           JOBSPEC is a file path relative to the current
                           directory
  update (u) allocate|reserve jgf|rv1exec FILE JOBID STARTTIME DURATION
                           re-install an allocation from the R in FILE (a
                           JGF, or an RFC 20 R read by its R_lite) over
                           [STARTTIME, STARTTIME+DURATION); a STARTTIME
                           other than 0 makes a reservation
  cancel (c) JOBID         release an allocation or reservation
  partial-cancel (pc) JOBID jgf|rv1exec FILE
                           release part of an allocation: the ranks of an
                           RFC 20 R_lite (rv1exec) or the vertices of a
                           JGF; the job is gone when nothing is left
  info (i) JOBID           print id, state, start time and jobspec
  stat (s)                 print the numbers of vertices, edges and jobs
  set-status (t) PATH up|down
  help (h) [COMMAND]
  quit (q)

A match prints the matched vertices (or, with -F/--match-format, R as
rlite (RFC 20 R), rv1 (RFC 20 R with the scheduling JGF), rv1_nosched or
jgf, Fluxion's match formats) and an
INFO block with JOBID, RESOURCES=ALLOCATED|RESERVED and SCHEDULED AT; a
failed one prints "No matching resources found" (plus "Unsatisfiable
request" for ENODEV) and writes the errno (EBUSY, ENODEV, EINVAL) and
reason to standard error. Every match is at time 0, as in reapi_cli.

A bad command prints an error to standard error and the session goes on;
so does a line longer than 16 MiB, which is skipped. The graph may be at
most 4 GiB, a jobspec 16 MiB, an R file (which may hold a JGF) 4 GiB.
The exit status is 0 unless the graph or a flag is bad (2).`,
		Example: `  sim fluxion --load graph.json < session.txt
  echo "match allocate job.yaml" | sim fluxion --load graph.json --policy lonode --format rlite
  sim fluxion --load graph.json --prompt`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageErr(fmt.Errorf("%s takes no arguments (commands are read from stdin), got %q\nUsage: %s", cmd.Name(), args, cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFluxion(cmd, &f)
		},
	}
	cmd.Flags().StringVar(&f.load, "load", "", "resource graph in JGF (required)")
	cmd.Flags().StringVar(&f.policy, "policy", "first", "match policy: "+strings.Join(match.MatchPolicyNames, ", ")+`, or an attribute string such as "policy=low node_centric=true"`)
	cmd.Flags().StringVar(&f.prune, "prune-filters", match.DefaultPruneFilters, "prune filters HL:LL[,HL:LL...]")
	cmd.Flags().StringVarP(&f.format, "match-format", "F", rqshell.FormatSimple, "match output: simple (vertex list), rlite (RFC 20 R), rv1 (RFC 20 R with the scheduling JGF), rv1_nosched or jgf")
	cmd.Flags().StringVar(&f.format, "format", rqshell.FormatSimple, "same as --match-format")
	cmd.Flags().BoolVar(&f.prompt, "prompt", false, `print the prompt "resource-query> " before each command`)
	return cmd
}

func runFluxion(cmd *cobra.Command, f *fluxionFlags) error {
	if f.load == "" {
		return usageErr(errors.New("fluxion needs --load GRAPH.json"))
	}
	if _, err := match.ParseMatchPolicy(f.policy); err != nil {
		return usageErr(fmt.Errorf("--policy: %w", err))
	}
	// Check the flags on a one-vertex graph before reading a graph that may
	// be large.
	opts := match.MatcherOptions{Policy: f.policy, PruneFilters: f.prune}
	probe, err := graph.NewGraph([]graph.Vertex{{Type: "cluster", Name: "cluster0", Path: "/cluster0", Size: 1, Parent: graph.NoVertex}})
	if err != nil {
		return failedErr(err)
	}
	pm, err := match.NewMatcher(probe, opts)
	if err != nil {
		return usageErr(fmt.Errorf("--prune-filters: %w", err))
	}
	if _, err := rqshell.New(pm, rqshell.Options{Format: f.format}); err != nil {
		return usageErr(fmt.Errorf("--match-format: %w", err))
	}
	g, err := graph.ReadJGFFile(f.load)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return usageErr(fmt.Errorf("cannot read graph: %w", err))
		}
		return usageErr(fmt.Errorf("cannot load graph: %w", err))
	}
	m, err := match.NewMatcher(g, opts)
	if err != nil {
		return usageErr(fmt.Errorf("cannot load graph %s: %w", f.load, err))
	}
	sh, err := rqshell.New(m, rqshell.Options{Format: f.format, PruneFilters: f.prune})
	if err != nil {
		return usageErr(fmt.Errorf("--match-format: %w", err))
	}
	prompt := ""
	if f.prompt {
		prompt = "resource-query> "
	}
	if err := sh.Run(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), prompt); err != nil {
		return failedErr(err)
	}
	return nil
}
