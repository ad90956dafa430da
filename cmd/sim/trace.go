package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/traces"
)

// addExportFlag adds --export to a command that runs scenarios.
func addExportFlag(cmd *cobra.Command, f *runFlags) {
	cmd.Flags().StringArrayVar(&f.exports, "export", nil, "also write the simulated run as a trace in this format, DIR/<format><ext> (repeatable; see sim trace formats)")
}

// exportFormats checks the --export formats.
func exportFormats(names []string) ([]*traces.Format, error) {
	var fs []*traces.Format
	for _, n := range names {
		f, err := writableFormat("--export", n)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// writeExports writes the run in each format into the report folder.
func writeExports(dir string, res *engine.Result, fs []*traces.Format) error {
	if len(fs) == 0 {
		return nil
	}
	t := traces.FromResult(res)
	for _, f := range fs {
		path := filepath.Join(dir, f.Name+f.Ext)
		if err := writeAtomic(path, true, func(w io.Writer) error { return f.Write(w, t) }); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

func newTraceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Read, describe and convert traces recorded on real clusters",
		Long: `Traces are what real clusters recorded: kubectl dumps of pods and nodes,
Kubernetes event streams, Flux job records and eventlogs, jobspecs and R,
the Standard Workload Format of the Parallel Workloads Archive, the MPIJob
logs of the CANOPIE-22 experiments, and converge's own events.jsonl.
Every reader detects its format (or takes --format), reads gzip'd files as
they are, and streams: memory grows with the records kept, not with the
file. 'sim trace formats' lists them.`,
	}
	cmd.AddCommand(newTraceInspectCmd(), newTraceConvertCmd(), newTraceFormatsCmd(), newTraceSynthCmd())
	return cmd
}

func newTraceSynthCmd() *cobra.Command {
	var out string
	var jobs, procs int
	var seed uint64
	var force bool
	cmd := &cobra.Command{
		Use:   "synth -o OUT.swf --jobs N --procs P",
		Short: "Write a synthetic SWF workload (rigid jobs in the Lublin–Feitelson shape)",
		Long: `Write a synthetic workload in the Standard Workload Format: N rigid jobs on a
machine of P one-processor nodes, 24% serial, sizes log-uniform with three
in four parallel ones a power of two, lognormal run times, requested times
the run time × U(1, 5), Poisson arrivals offering 75% of the machine. Wait
times are -1: it says what was asked, not how a scheduler served it; replay
it with sim replay. The same arguments give the same bytes.`,
		Example: `  sim trace synth -o jobs.swf.gz --jobs 1000000 --procs 10000`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr(errors.New("synth needs -o OUT"))
			}
			if err := refuseExisting(out, force); err != nil {
				return err
			}
			err := writeAtomic(out, force, gzipped(out, func(w io.Writer) error { return traces.SyntheticSWF(w, jobs, procs, seed) }))
			if err != nil {
				var ex *existsError
				if errors.As(err, &ex) || strings.HasPrefix(err.Error(), "synthetic SWF") {
					return usageErr(err)
				}
				return failedErr(fmt.Errorf("writing %s: %w", out, err))
			}
			cmd.Printf("wrote %s: %d jobs on %d processors\n", out, jobs, procs)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (.gz: gzip'd)")
	cmd.Flags().IntVar(&jobs, "jobs", 10000, "number of jobs")
	cmd.Flags().IntVar(&procs, "procs", 1024, "processors (one-processor nodes) of the machine")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	cmd.Flags().BoolVar(&force, "force", false, "replace OUT if it exists")
	return cmd
}

func newTraceFormatsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "formats",
		Short: "List the trace formats converge reads and writes",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range traces.Formats() {
				rw := "read"
				if f.Write != nil {
					rw = "read, write"
				}
				cmd.Printf("%-22s %-12s %s\n", f.Name, rw, f.Doc)
			}
			return nil
		},
	}
}

func newTraceInspectCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect TRACE...",
		Short: "Say what a trace holds: counts, time span, groups, nodes, gaps, what is missing",
		Example: `  sim trace inspect ../shared/data/flux-usernetes-aws/lammps-pods-pull-32.json
  sim trace inspect pods.json.gz events.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := openTraces(args, format)
			if err != nil {
				return err
			}
			cmd.Print(traces.Summarize(t).Text())
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "the traces' format (default: detected per file; see sim trace formats)")
	return cmd
}

// openTraces reads trace files as one trace; every error is bad input.
func openTraces(paths []string, format string) (*traces.Trace, error) {
	if format != "" {
		if _, err := traces.LookupFormat(format); err != nil {
			return nil, usageErr(fmt.Errorf("--format: %w", err))
		}
	}
	t, err := traces.Open(paths, format)
	if err != nil {
		return nil, usageErr(err)
	}
	return t, nil
}

func newTraceConvertCmd() *cobra.Command {
	var format, to, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "convert TRACE... -o OUT --to FORMAT",
		Short: "Convert traces to another format",
		Long: `Read the traces (as one) and write them in --to's format to OUT, which must
not exist unless --force is given. OUT ending in .gz is gzip'd. The file
appears whole or not at all (written to a temporary file, then renamed).
What the target format cannot hold is left out (an SWF row has no pods; a
pod list has no Flux eventlog).`,
		Example: `  sim trace convert out/run/events.jsonl -o pods.json --to kube-pods
  sim trace convert jobs.swf.gz -o jobs.json --to flux-jobs`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" || to == "" {
				return usageErr(errors.New("convert needs -o OUT and --to FORMAT"))
			}
			f, err := writableFormat("--to", to)
			if err != nil {
				return usageErr(err)
			}
			if err := refuseExisting(out, force); err != nil {
				return err
			}
			t, err := openTraces(args, format)
			if err != nil {
				return err
			}
			if err := writeAtomic(out, force, gzipped(out, func(w io.Writer) error { return f.Write(w, t) })); err != nil {
				var ex *existsError
				if errors.As(err, &ex) {
					return usageErr(err)
				}
				return failedErr(fmt.Errorf("writing %s: %w", out, err))
			}
			cmd.Printf("wrote %s (%s): %d jobs, %d pods, %d nodes read\n", out, to, len(t.Jobs), len(t.Pods), len(t.Nodes))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "the input traces' format (default: detected per file)")
	cmd.Flags().StringVar(&to, "to", "", "the format to write (see sim trace formats)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (.gz: gzip'd)")
	cmd.Flags().BoolVar(&force, "force", false, "replace OUT if it exists")
	return cmd
}

// writableFormat is the format a flag names, which converge must write.
func writableFormat(flag, name string) (*traces.Format, error) {
	f, err := traces.LookupFormat(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if f.Write == nil {
		var w []string
		for _, f := range traces.Formats() {
			if f.Write != nil {
				w = append(w, f.Name)
			}
		}
		return nil, fmt.Errorf("%s: converge reads %s but does not write it (writable: %s)", flag, name, strings.Join(w, ", "))
	}
	return f, nil
}

// refuseExisting is a usage error when out exists and force is not given
// (checked before reading; writeAtomic checks again when it links).
func refuseExisting(out string, force bool) error {
	if !force {
		if _, err := os.Lstat(out); err == nil {
			return usageErr(fmt.Errorf("%s: already exists (use --force to replace it)", out))
		}
	}
	return nil
}

// gzipped writes through write, gzip'd when path ends in .gz.
func gzipped(path string, write func(io.Writer) error) func(io.Writer) error {
	if !strings.HasSuffix(path, ".gz") {
		return write
	}
	return func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		if err := write(zw); err != nil {
			return err
		}
		return zw.Close()
	}
}

// writeAtomic writes path through write into a synced temporary file in
// the same folder: with force it is renamed over path; without, it is
// hard-linked to path, which fails if path exists (so a file that
// appeared meanwhile is not replaced either). Either way path is never
// seen half-written and the temporary file is removed.
func writeAtomic(path string, force bool, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if force {
		return os.Rename(tmp.Name(), path)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &existsError{path}
		}
		return err
	}
	return nil
}
