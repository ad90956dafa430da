package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/scenarios/calibrate"
	"github.com/convergesim/converge/traces"
)

type fitNetworkFlags struct {
	out        string
	name       string
	experiment string
	bands      string
	force      bool
}

func newFitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fit",
		Short: "Fit model parameters to measurements",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr(fmt.Errorf("unknown fit target %q (available: network, app, startup, stages, launchers)\nUsage: %s", args[0], cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr(fmt.Errorf("fit needs a target: network, app, startup, stages or launchers (sim fit TARGET --help)"))
		},
	}
	cmd.AddCommand(append([]*cobra.Command{newFitNetworkCmd()}, newFitModelCmds()...)...)
	cmd.AddCommand(newFitLaunchersCmd())
	return cmd
}

func newFitNetworkCmd() *cobra.Command {
	var f fitNetworkFlags
	cmd := &cobra.Command{
		Use:   "network FILES... -o PROFILE.yaml",
		Short: "Fit a network transport profile to iperf3 and OSU measurements",
		Long: `Fit a point-to-point transport profile (latency and bandwidth per
message-size band) to measurements and write it as a profile file
(kind: NetworkProfile) with the fit's errors and its provenance.

Each file's format is told from its content:
  iperf3 -J output     client side, TCP, one stream or several (-P)
  OSU standard output  osu_latency or osu_bw, OSU Micro-Benchmarks v5 to v7
  OSU CSV table        size and average_latency_us columns, as in the
                       flux-usernetes experiments (one experiment per fit:
                       choose it with --experiment)

Per band, the fit is weighted linear least squares of relative errors:
osu_latency's time t = latency + size/bandwidth and osu_bw's time per
message = gap + size/bandwidth share the band's bandwidth. The bands are
given with --bands or chosen where splitting cuts the error most. A
one-stream iperf3 run gives the last band's bandwidth, a parallel one
the link bandwidth, and iperf3's CPU figures the CPU time per byte.

The table printed shows the fitted bands and the fit error per
message-size band and per input file; the same table is kept as a
comment in the profile, the figures in its fit: section.

A measurement file may be at most 256 MiB of text, or gzip of it (a NUL
byte, as in /dev/zero or a binary, is refused at once); values no network produces
(a rate above 1 Pbit/s, a latency above 1000 s, a message above 1 TiB,
NaN, a rate that disagrees with iperf3's bytes and seconds) are refused
with the file, line and field. Names in the profile are escaped, so any
--name or file name reads back as given.

Beside the profile, NAME-latency and NAME-bandwidth (PNG and SVG) draw
the fitted profile against the measured points, message size on log
axes. The profile and its figures are written atomically and an existing
file is not replaced without --force. Exit status: 0 on success, 2 on bad input (a malformed
file, an unknown experiment, a fit the data do not allow), 1 when the
file cannot be written.`,
		Example: `  sim fit network osu-results-latency.csv osu-results-bandwidth.csv \
      --experiment bare-metal -o scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml
  sim fit network osu_latency.out osu_bw.out --bands 8192,65536 -o efa.yaml
  sim fit network iperf3-1stream.json iperf3-8streams.json -o tcp.yaml --name tcp-10g --force`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("fit network needs at least one measurement file\nUsage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFitNetwork(cmd, args, &f)
		},
	}
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "profile file to write (required)")
	cmd.Flags().StringVar(&f.name, "name", "", "profile name (default: the output file's name without .yaml)")
	cmd.Flags().StringVar(&f.experiment, "experiment", "", "the experiment to fit from an OSU CSV table (bare-metal, usernetes, ...)")
	cmd.Flags().StringVar(&f.bands, "bands", "", "band boundaries in bytes, ascending: the largest size of every band but the last (8192,65536); default: chosen from the data")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace an existing profile file")
	return cmd
}

func runFitNetwork(cmd *cobra.Command, files []string, f *fitNetworkFlags) error {
	if f.out == "" {
		return usageErr(errors.New("fit network needs -o PROFILE.yaml"))
	}
	bands, err := parseBands(f.bands)
	if err != nil {
		return usageErr(err)
	}
	for _, out := range append([]string{f.out}, fitFigurePaths(f.out)...) {
		if err := checkOutputFile(out, f.force); err != nil {
			return usageErr(err)
		}
	}
	name := f.name
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f.out), ".yaml"), ".yml")
	}
	var in network.FitInput
	for _, path := range files {
		data, err := traces.ReadMeasurementFile(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return usageErr(fmt.Errorf("cannot read measurement file: %w", err))
			}
			return usageErr(err)
		}
		if err := calibrate.AddNetworkMeasurement(&in, path, data, f.experiment); err != nil {
			return usageErr(err)
		}
	}
	fit, err := network.FitProfile(name, in, network.FitOptions{
		Bands:   bands,
		Tool:    "sim " + versionString(),
		Command: fitCommandLine(files, f, name),
	})
	if err != nil {
		return usageErr(err)
	}
	var buf bytes.Buffer
	if err := network.WriteProfile(&buf, fit); err != nil {
		return failedErr(err)
	}
	if err := fit.WriteTable(cmd.OutOrStdout()); err != nil {
		return failedErr(err)
	}
	if err := writeFileAtomic(f.out, buf.Bytes(), f.force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageErr(err)
		}
		return failedErr(err)
	}
	cmd.Printf("\nprofile %s written to %s\n", printableArg(name), printableArg(f.out))
	figs, err := fitFigures(f.out, in, fit)
	if err != nil {
		return failedErr(err)
	}
	if err := writeFigures(filepath.Dir(f.out), figs, f.force); err != nil {
		return failedErr(err)
	}
	for _, fig := range figs {
		cmd.Printf("figure %s.{png,svg} written beside it\n", printableArg(fig.Name))
	}
	return nil
}

// parseBands reads --bands: positive byte counts, ascending.
func parseBands(s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int64
	for i, part := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--bands: %s is not a positive number of bytes", limitio.Quote(strings.TrimSpace(part), 40))
		}
		if i > 0 && n <= out[i-1] {
			return nil, fmt.Errorf("--bands: %d must be above %d (ascending)", n, out[i-1])
		}
		out = append(out, n)
	}
	return out, nil
}

// fitCommandLine is the command that regenerates the profile, for its
// provenance: the files as given and the flags that change the result.
func fitCommandLine(files []string, f *fitNetworkFlags, name string) string {
	parts := []string{"sim", "fit", "network"}
	for _, p := range files {
		parts = append(parts, shellQuote(p))
	}
	parts = append(parts, "-o", shellQuote(f.out), "--name", shellQuote(name))
	if f.experiment != "" {
		parts = append(parts, "--experiment", shellQuote(f.experiment))
	}
	if f.bands != "" {
		parts = append(parts, "--bands", shellQuote(f.bands))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell: as it is when it is made of
// safe characters, in single quotes when it is printable, and otherwise
// (line breaks, control characters, bytes that are not UTF-8) in bash's
// $'...' with escapes, so that the command stays on one printable line
// (it goes into a YAML comment) and still gives back s.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,=+:@", r))
	}) < 0 {
		return s
	}
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && size == 1, !unicode.IsPrint(r):
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// printableArg returns a name for a message: as it is when printable,
// else Go-quoted with escapes.
func printableArg(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// checkOutputFile refuses early, before any work, an output that exists
// (without force) or is not a regular file.
func checkOutputFile(path string, force bool) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file", path)
	}
	if !force {
		return &existsError{path}
	}
	return nil
}

// existsError is an output file that is there already; it matches
// fs.ErrExist.
type existsError struct{ path string }

func (e *existsError) Error() string {
	return e.path + " already exists (use --force to overwrite)"
}
func (e *existsError) Is(target error) bool { return target == fs.ErrExist }

// writeFileAtomic writes data to path (see writeAtomic).
func writeFileAtomic(path string, data []byte, force bool) error {
	return writeAtomic(path, force, func(w io.Writer) error { _, err := w.Write(data); return err })
}
