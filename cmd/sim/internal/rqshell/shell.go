// Package rqshell is the interpreter behind "sim fluxion": a line-oriented
// shell over converge's model of Fluxion's matcher (policies/fluxion) that
// speaks the command language of flux-sched's resource-query
// (resource/utilities/command.cpp, v0.54.0) and prints what it prints, so
// that a session gives the same standard output from both tools.
//
// What is the same, and what is not, is listed in docs/fluxion-reapi.md
// ("sim fluxion"); testdata/parity holds sessions with the output of the
// real resource-query, which TestParity compares byte for byte.
package rqshell

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// Match formats (resource-query -F). resource-query also has
// pretty_simple and jgf_shorthand, which the shell does not write.
const (
	FormatSimple     = "simple"
	FormatRLite      = "rlite"
	FormatJGF        = "jgf"
	FormatRV1        = "rv1"
	FormatRV1NoSched = "rv1_nosched"
)

// Formats are the match formats New accepts.
var Formats = []string{FormatSimple, FormatRLite, FormatJGF, FormatRV1, FormatRV1NoSched}

// ErrUnknownFormat is New's error for a format not in Formats.
var ErrUnknownFormat = errors.New("unknown match format")

// Options configure a Shell.
type Options struct {
	// Format is one of Formats; "" is FormatSimple.
	Format string
	// PruneFilters is the matcher's prune-filter spec (HL:LL,...), which
	// says which vertices hold a subtree span for find's jobid-span; ""
	// is match.DefaultPruneFilters.
	PruneFilters string
}

// Shell interprets resource-query commands over a Matcher.
type Shell struct {
	m    *match.Matcher
	g    *graph.Graph
	opt  Options
	next uint64              // resource-query's job counter
	jobs map[uint64]*jobInfo // resource-query's ctx->jobs
	perf struct{ min, max, accum float64 }
	// filterAll and filterTypes say which vertex types carry a pruning
	// filter (find's jobid-span).
	filterAll   bool
	filterTypes map[string]bool
	now         func() time.Time
}

// jobInfo is what resource-query keeps of a job it matched or updated.
type jobInfo struct {
	file     string  // the jobspec (or R) file name as typed
	overhead float64 // seconds the match or update took
	update   bool    // installed by update (booked as an allocation even at a later start)
}

// New returns a shell over m.
func New(m *match.Matcher, opt Options) (*Shell, error) {
	if m == nil {
		return nil, errors.New("rqshell: nil matcher")
	}
	if opt.Format == "" {
		opt.Format = FormatSimple
	}
	if !slices.Contains(Formats, opt.Format) {
		return nil, fmt.Errorf("%w %q, only (%s) allowed", ErrUnknownFormat, opt.Format, strings.Join(Formats, ", "))
	}
	if opt.PruneFilters == "" {
		opt.PruneFilters = match.DefaultPruneFilters
	}
	s := &Shell{m: m, g: m.Graph(), opt: opt, next: 1, jobs: map[uint64]*jobInfo{}, filterTypes: map[string]bool{}, now: time.Now}
	s.perf.min = math.MaxFloat64
	for _, f := range strings.Split(opt.PruneFilters, ",") {
		hl, _, _ := strings.Cut(strings.TrimSpace(f), ":")
		if hl == "ALL" {
			s.filterAll = true
		}
		s.filterTypes[hl] = true
	}
	return s, nil
}

// ErrQuit is Exec's answer to quit.
var ErrQuit = errors.New("rqshell: quit")

type command struct {
	name, abbr, note string
	run              func(s *Shell, args []string, out, errOut io.Writer)
	// minArgs and maxArgs bound the words of a line (the command's
	// included; maxArgs -1: no bound), as resource-query checks them
	// before it runs a command: "ERROR: malformed command" if not.
	minArgs, maxArgs int
}

var commands []command

func init() {
	commands = []command{
		{"match", "m", "match OP JOBSPEC: allocate or reserve for a jobspec file (OP: allocate, allocate_with_satisfiability, allocate_orelse_reserve, satisfiability, without_allocating, without_allocating_future)", (*Shell).cmdMatch, 3, 3},
		{"multi-match", "M", "multi-match OP JOBSPEC...: match each jobspec in turn, stopping at the first that fails", (*Shell).cmdMultiMatch, 4, -1},
		{"update", "u", "update allocate|reserve jgf|rv1exec FILE JOBID STARTTIME DURATION: install the allocation in the R of FILE", (*Shell).cmdUpdate, 7, 7},
		{"find", "f", "find CRITERIA: list the vertices that meet predicates (status=up|down, sched-now=allocated|free, sched-future=reserved|free, names=HOSTLIST, property=NAME, jobid-alloc|jobid-reserved|jobid-span|jobid-tag=JOBID) joined by and, or and parentheses", (*Shell).cmdFind, 0, -1},
		{"cancel", "c", "cancel JOBID: release an allocation or reservation", (*Shell).cmdCancel, 2, 3},
		{"partial-cancel", "pc", "partial-cancel JOBID jgf|rv1exec FILE: release the part of an allocation that the R in FILE names", (*Shell).cmdPartialCancel, 4, 5},
		{"set-property", "p", "set-property PATH KEY=VALUE: set a property of a vertex", (*Shell).cmdSetProperty, 3, 3},
		{"get-property", "g", "get-property PATH: print a vertex's properties", (*Shell).cmdGetProperty, 2, 2},
		{"set-status", "t", "set-status PATH up|down: mark a vertex (and so its subtree) up or down", (*Shell).cmdSetStatus, 3, 3},
		{"get-status", "e", "get-status PATH: print a vertex's status", (*Shell).cmdGetStatus, 2, 2},
		{"list", "l", "list: print every job", (*Shell).cmdList, 0, -1},
		{"info", "i", "info JOBID: print a job's id, state, start time, file and match time", (*Shell).cmdInfo, 2, 2},
		{"stat", "s", "stat: print the number of jobs and the update times", (*Shell).cmdStat, 1, 1},
		{"cat", "a", "cat FILE: print a jobspec file", (*Shell).cmdCat, 2, -1},
		{"help", "h", "help [COMMAND]: print this help", (*Shell).cmdHelp, 0, -1},
		{"quit", "q", "quit: end the session", nil, 0, -1},
	}
}

// Exec runs one command line. Standard output goes to out, diagnostics to
// errOut, each where resource-query writes it. It returns ErrQuit for
// quit and nil otherwise: a bad command is reported on errOut and the
// shell stays usable. Blank lines do nothing; so do lines whose first
// word is not a command (resource-query skips them silently), except
// that the shell says so on errOut unless the line starts with "#".
func (s *Shell) Exec(line string, out, errOut io.Writer) error {
	args := strings.Fields(line)
	if len(args) == 0 {
		return nil
	}
	for _, c := range commands {
		if args[0] == c.name || args[0] == c.abbr {
			if c.run == nil {
				return ErrQuit
			}
			if len(args) < c.minArgs || (c.maxArgs >= 0 && len(args) > c.maxArgs) {
				fmt.Fprintln(errOut, "ERROR: malformed command")
				return nil
			}
			c.run(s, args, out, errOut)
			return nil
		}
	}
	if !strings.HasPrefix(args[0], "#") {
		fmt.Fprintf(errOut, "ERROR: unknown command %s (ignored; try help)\n", clip(args[0]))
	}
	return nil
}

// Run reads commands from in, one per line, until EOF or quit. The
// prompt, if not "", is written to out before each line. A line longer
// than limitio.Line bytes is skipped (to its end) with an error. Run
// returns only errors reading in or writing out.
func (s *Shell) Run(in io.Reader, out, errOut io.Writer, prompt string) error {
	return s.run(in, out, errOut, prompt, limitio.Line)
}

func (s *Shell) run(in io.Reader, out, errOut io.Writer, prompt string, limit int) error {
	br := bufio.NewReaderSize(in, 64<<10)
	var buf []byte
	for n := 1; ; n++ {
		if prompt != "" {
			if _, err := io.WriteString(out, prompt); err != nil {
				return err
			}
		}
		line, long, err := readLine(br, buf[:0], limit)
		buf = line
		if err != nil && !(errors.Is(err, io.EOF) && (len(line) > 0 || long)) {
			if prompt != "" {
				io.WriteString(out, "\n")
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if long {
			fmt.Fprintf(errOut, "ERROR: line %d: longer than the %s limit for a command; skipped\n", n, limitio.Size(int64(limit)))
			continue
		}
		if errors.Is(s.Exec(string(line), out, errOut), ErrQuit) {
			return nil
		}
	}
}

// readLine reads one line into buf (without its "\n" or "\r\n"). A line
// longer than limit bytes is read to its end but not kept: long is true.
// err is io.EOF at the end of the input, with the last line (if it had
// no newline) in line.
func readLine(br *bufio.Reader, buf []byte, limit int) (line []byte, long bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			n := len(buf) + len(chunk)
			if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
				n--
			}
			if n > limit {
				long, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil || errors.Is(err, io.EOF) {
			buf = bytes.TrimSuffix(buf, []byte("\n"))
			buf = bytes.TrimSuffix(buf, []byte("\r"))
		}
		return buf, long, err
	}
}

// clip returns a command's argument for a message: as it is, or quoted
// and cut when it is long.
func clip(s string) string {
	const max = 200
	printable := strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == utf8.RuneError }) < 0
	switch {
	case len(s) > max:
		return strconv.Quote(s[:max]) + "..."
	case !printable:
		return strconv.Quote(s)
	}
	return s
}

// readFile reads a command's file argument, at most limit bytes. ok is
// false when it cannot be opened, as resource-query's "can't open" (a
// missing file, a folder); other failures (too large, unreadable) are
// reported with their reason.
func readFile(name string, limit int64, kind string, errOut io.Writer) ([]byte, bool) {
	if kind == "R" {
		// An R is a JSON object: refuse early what cannot start one
		// (a device such as /dev/zero would otherwise be read to the
		// 4 GiB limit).
		if f, err := os.Open(name); err == nil {
			head := make([]byte, 512)
			n, _ := io.ReadFull(f, head)
			f.Close()
			t := bytes.TrimLeft(head[:n], " \t\r\n")
			if len(t) > 0 && t[0] != '{' || n > 0 && len(t) == 0 && n == len(head) {
				fmt.Fprintf(errOut, "ERROR: can't read %s: not an R (a JSON object)\n", clip(name))
				return nil, false
			}
		}
	}
	data, err := limitio.ReadFile(name, limit, kind)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) || errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(errOut, "ERROR: can't open %s\n", clip(name))
		} else {
			fmt.Fprintf(errOut, "ERROR: can't open %s: %v\n", clip(name), err)
		}
		return nil, false
	}
	return data, true
}

// strtoll is C's strtoll(s, NULL, 10): leading blanks, a sign, digits up
// to the first non-digit; 0 if there are none; clamped on overflow.
func strtoll(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			over = true
			continue
		}
		v = v*10 + d
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64
	case neg:
		return -int64(v)
	case over || v > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(v)
}

// cdouble formats x as C++'s ostream does by default (%g, 6 digits).
func cdouble(x float64) string {
	return strconv.FormatFloat(x, 'g', 6, 64)
}

func parseOp(name string) (match.MatchOp, bool) {
	for op := match.MatchAllocate; op <= match.MatchWithoutAllocatingFuture; op++ {
		if op.String() == name {
			return op, true
		}
	}
	return 0, false
}

func allocates(op match.MatchOp) bool {
	return op == match.MatchAllocate || op == match.MatchAllocateWithSatisfiability || op == match.MatchAllocateOrElseReserve
}

const rule = "INFO: =============================\n"

func (s *Shell) cmdMatch(args []string, out, errOut io.Writer) {
	op, ok := parseOp(args[1])
	if !ok {
		fmt.Fprintf(errOut, "ERROR: unknown subcmd %s\n", clip(args[1]))
		return
	}
	s.runMatch(op, args[2], out, errOut)
}

func (s *Shell) cmdMultiMatch(args []string, out, errOut io.Writer) {
	op, ok := parseOp(args[1])
	if !ok {
		fmt.Fprintf(errOut, "ERROR: unknown subcmd %s\n", clip(args[1]))
		return
	}
	for _, file := range args[2:] {
		if !s.runMatch(op, file, out, errOut) {
			break
		}
	}
}

// runMatch is resource-query's run_match; it returns false where
// match_allocate fails (multi-match stops there).
func (s *Shell) runMatch(op match.MatchOp, file string, out, errOut io.Writer) bool {
	data, ok := readFile(file, limitio.Jobspec, "jobspec", errOut)
	if !ok {
		return true
	}
	id := s.next
	start := s.now()
	js, err := jobspec.ParseJobspec(data, file)
	if err != nil {
		// match_allocate gives up before the traverser: the counter
		// stays, and the request counts as satisfiable.
		fmt.Fprintf(errOut, "match_allocate: ERROR: Jobspec error for %d: %s\n", id, oneLine(err))
		s.noMatch(op, id, true, out)
		return false
	}
	a, err := s.m.MatchWithJobID(op, js, 0, id)
	busy := errors.Is(err, match.ErrBusy) || errors.Is(err, match.ErrUnsatisfiable)
	if err != nil && !busy {
		fmt.Fprintf(errOut, "match_allocate: ERROR: %s\n", oneLine(err))
		s.noMatch(op, id, true, out)
		return false
	}
	var r string
	if err == nil && a != nil {
		r, ok = s.render(a, false)
	} else if err == nil {
		r, ok = "", s.opt.Format != FormatRLite
	} else {
		r, ok = "", s.opt.Format != FormatRLite
	}
	if !ok {
		// The rlite writer fails on an empty R (no core or gpu under a
		// node): match_allocate returns before it counts the job, with
		// errno EINVAL, so the request counts as satisfiable.
		fmt.Fprintln(errOut, "match_allocate: ERROR: match writer emit: Invalid argument")
		if a != nil && allocates(op) {
			s.m.Cancel(a.JobID) // resource-query keeps these resources; see the docs
		}
		s.noMatch(op, id, true, out)
		return false
	}
	elapsed := s.now().Sub(start).Seconds()
	if allocates(op) {
		s.next++
	}
	io.WriteString(out, r)
	if op == match.MatchSatisfiability {
		sat := "Satisfiable"
		if errors.Is(err, match.ErrUnsatisfiable) {
			sat = "Unsatisfiable"
		}
		fmt.Fprintf(out, "%sINFO: %s request\n%s", rule, sat, rule)
		return err == nil
	}
	if err != nil {
		s.noMatch(op, id, !errors.Is(err, match.ErrUnsatisfiable), out)
		return false
	}
	mode, at := "ALLOCATED", "Now"
	if a.At != 0 {
		mode, at = "RESERVED", strconv.FormatInt(a.At, 10)
	}
	if !allocates(op) {
		mode = "MATCHED"
	}
	fmt.Fprintf(out, "%sINFO: JOBID=%d\nINFO: RESOURCES=%s\nINFO: SCHEDULED AT=%s\n%s", rule, id, mode, at, rule)
	if allocates(op) {
		s.jobs[id] = &jobInfo{file: file, overhead: elapsed}
	}
	return true
}

// noMatch prints resource-query's block for a failed match.
func (s *Shell) noMatch(op match.MatchOp, id uint64, sat bool, out io.Writer) {
	if op == match.MatchSatisfiability {
		verdict := "Satisfiable"
		if !sat {
			verdict = "Unsatisfiable"
		}
		fmt.Fprintf(out, "%sINFO: %s request\n%s", rule, verdict, rule)
		return
	}
	fmt.Fprintf(out, "%sINFO: No matching resources found\n", rule)
	if !sat {
		io.WriteString(out, "INFO: Unsatisfiable request\n")
	}
	fmt.Fprintf(out, "INFO: JOBID=%d\n%s", id, rule)
}

// oneLine is err's message on one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// cmdUpdate is resource-query's "update": the R in FILE is installed as
// JOBID over [STARTTIME, STARTTIME+DURATION); the counter becomes
// JOBID+1 once the arguments are good, whether or not the update
// succeeds.
func (s *Shell) cmdUpdate(args []string, out, errOut io.Writer) {
	if args[1] != "allocate" && args[1] != "reserve" {
		fmt.Fprintf(errOut, "ERROR: unknown subcmd %s\n", clip(args[1]))
		return
	}
	if args[2] != match.ReaderJGF && args[2] != match.ReaderRV1Exec {
		// resource-query also reads jgf_shorthand, which the model does not.
		fmt.Fprintf(errOut, "ERROR: unsupported reader %s\n", clip(args[2]))
		return
	}
	data, ok := readFile(args[3], limitio.ResourceGraph, "R", errOut)
	if !ok {
		return
	}
	id := uint64(strtoll(args[4]))
	if a, err := s.m.Info(id); err == nil && !a.Canceled {
		fmt.Fprintln(errOut, "ERROR: existing Jobid ")
		return
	}
	at := strtoll(args[5])
	dur := uint64(strtoll(args[6]))
	if at < 0 || dur == 0 {
		fmt.Fprintf(errOut, "ERROR: invalid time (%d, %d)\n", at, dur)
		return
	}
	start := s.now()
	d := int64(min(dur, uint64(math.MaxInt64)))
	if w := s.m.GraphDuration(); at < w {
		d = min(d, w-at)
	}
	a, err := s.m.InstallR(id, args[2], data, at, d, at != 0)
	var r string
	if err != nil {
		fmt.Fprintln(errOut, "ERROR: traverser run () returned error ")
		fmt.Fprintf(errOut, "ERROR: %s\n", oneLine(err))
	} else if r, ok = s.render(a, false); !ok {
		r = ""
	}
	io.WriteString(out, r)
	elapsed := s.now().Sub(start).Seconds()
	s.perf.min = min(s.perf.min, elapsed)
	s.perf.max = max(s.perf.max, elapsed)
	s.perf.accum += elapsed
	if err != nil {
		fmt.Fprintf(out, "%sINFO: No matching resources found\nINFO: JOBID=%d\n%s", rule, id, rule)
	} else {
		mode, when := "ALLOCATED", "Now"
		if at != 0 {
			mode, when = "RESERVED", strconv.FormatInt(at, 10)
		}
		fmt.Fprintf(out, "%sINFO: JOBID=%d\nINFO: RESOURCES=%s\nINFO: SCHEDULED AT=%s\n%s", rule, id, mode, when, rule)
		s.jobs[id] = &jobInfo{file: args[3], overhead: elapsed, update: true}
	}
	s.next = id + 1
}

// cmdPartialCancel is resource-query's "partial-cancel". It prints
// nothing on success; info then shows CANCELED if nothing was left.
func (s *Shell) cmdPartialCancel(args []string, out, errOut io.Writer) {
	id := uint64(strtoll(args[1]))
	if args[2] != match.ReaderJGF && args[2] != match.ReaderRV1Exec {
		fmt.Fprintf(errOut, "ERROR: unsupported reader %s\n", clip(args[2]))
		return
	}
	data, ok := readFile(args[3], limitio.ResourceGraph, "R", errOut)
	if !ok {
		return
	}
	a, err := s.m.Info(id)
	switch {
	case err != nil || a.Canceled:
		fmt.Fprintf(errOut, "ERROR: nonexistent job %d\n", id)
		return
	case a.Reserved:
		fmt.Fprintln(errOut, "ERROR: reservations not currently supported by partial cancel")
		return
	}
	if _, err := s.m.PartialCancelR(id, args[2], data); err != nil {
		fmt.Fprintf(out, "%s\n", oneLine(err))
		fmt.Fprintf(errOut, "ERROR: error encountered while removing job %d\n", id)
	}
	if len(args) == 5 && args[4] == "stats" {
		fmt.Fprintln(errOut, "ERROR: partial-cancel stats: visit counts are not modelled")
	}
}

func (s *Shell) cmdCancel(args []string, out, errOut io.Writer) {
	id := uint64(strtoll(args[1]))
	if a, err := s.m.Info(id); err != nil || a.Canceled {
		fmt.Fprintf(errOut, "cancel: ERROR: nonexistent job %d\n", id)
		return
	}
	if err := s.m.Cancel(id); err != nil {
		fmt.Fprintf(errOut, "cancel: ERROR: error encountered while removing job %d\n", id)
		return
	}
	if len(args) == 3 && args[2] == "stats" {
		fmt.Fprintln(errOut, "ERROR: cancel stats: visit counts are not modelled")
	}
}

// writeJob prints one job as info and list do.
func (s *Shell) writeJob(id uint64, j *jobInfo, out io.Writer) {
	mode, at := "CANCELED", int64(0)
	if a, err := s.m.Info(id); err == nil {
		mode, at = a.Mode(), a.At
	}
	fmt.Fprintf(out, "INFO: %d, %s, %d, %s, %s\n", id, mode, at, j.file, cdouble(j.overhead))
}

func (s *Shell) cmdInfo(args []string, out, errOut io.Writer) {
	id := uint64(strtoll(args[1]))
	j, ok := s.jobs[id]
	if !ok {
		fmt.Fprintf(errOut, "info: ERROR: nonexistent job %d\n", id)
		return
	}
	s.writeJob(id, j, out)
}

func (s *Shell) cmdList(args []string, out, errOut io.Writer) {
	ids := make([]uint64, 0, len(s.jobs))
	for id := range s.jobs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s.writeJob(id, s.jobs[id], out)
	}
}

// cmdStat prints resource-query's stat: the jobs it ever recorded and
// the times of its updates (resource-query times only update, so with
// no update the minimum is the largest double and the rest 0).
func (s *Shell) cmdStat(args []string, out, errOut io.Writer) {
	avg, lo := 0.0, 0.0
	if n := len(s.jobs); n > 0 {
		avg, lo = s.perf.accum/float64(n), s.perf.min
	}
	fmt.Fprintf(out, "INFO: Num. of Jobs Matched: %d\n", len(s.jobs))
	fmt.Fprintf(out, "INFO: Min. Match Time: %s\n", cdouble(lo))
	fmt.Fprintf(out, "INFO: Max. Match Time: %s\n", cdouble(s.perf.max))
	fmt.Fprintf(out, "INFO: Avg. Match Time: %s\n", cdouble(avg))
}

// lookup finds the vertex at path, or says on out that there is none
// (as set-status, get-status and get-property do).
func (s *Shell) lookup(path string, out io.Writer) (graph.VertexID, bool) {
	id, ok := s.g.Lookup(path)
	if !ok {
		fmt.Fprintf(out, "Could not find path %s in resource graph.\n", path)
	}
	return id, ok
}

func (s *Shell) cmdSetStatus(args []string, out, errOut io.Writer) {
	if _, ok := s.lookup(args[1], out); !ok {
		return
	}
	var st graph.Status
	switch args[2] {
	case "up":
		st = graph.StatusUp
	case "down":
		st = graph.StatusDown
	default:
		fmt.Fprintln(errOut, "ERROR: unrecognized status")
		return
	}
	if err := s.g.SetStatus(args[1], st); err != nil {
		fmt.Fprintf(errOut, "ERROR: %s\n", oneLine(err))
	}
}

func (s *Shell) cmdGetStatus(args []string, out, errOut io.Writer) {
	v, ok := s.lookup(args[1], out)
	if !ok {
		return
	}
	st := "up"
	if s.g.Vertex(v).Status == graph.StatusDown {
		st = "down"
	}
	fmt.Fprintf(out, "%s is %s\n", args[1], st)
}

func (s *Shell) cmdSetProperty(args []string, out, errOut io.Writer) {
	k, v, found := strings.Cut(args[2], "=")
	if !found || k == "" || v == "" {
		io.WriteString(out, "Incorrect input format. \nPlease use `set-property <resource> PROPERTY=VALUE`.\n")
		return
	}
	id, ok := s.g.Lookup(args[1])
	if !ok {
		fmt.Fprintf(out, "Couldn't find path %s in resource graph.\n", args[1])
		return
	}
	vx := s.g.Vertex(id)
	if vx.Properties == nil {
		vx.Properties = map[string]string{}
	}
	vx.Properties[k] = v
}

func (s *Shell) cmdGetProperty(args []string, out, errOut io.Writer) {
	id, ok := s.lookup(args[1], out)
	if !ok {
		return
	}
	vx := s.g.Vertex(id)
	if len(vx.Properties) == 0 {
		fmt.Fprintf(out, "No properties were found for %s (vtx's uniq_id=%d).\n", args[1], vx.UniqID)
		return
	}
	keys := make([]string, 0, len(vx.Properties))
	for k := range vx.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "%s=%s\n", k, vx.Properties[k])
	}
}

func (s *Shell) cmdCat(args []string, out, errOut io.Writer) {
	if data, err := limitio.ReadFile(args[1], limitio.Jobspec, "jobspec"); err == nil {
		text := string(data)
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		io.WriteString(out, text)
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(errOut, "ERROR: %s\n", oneLine(err))
	}
	fmt.Fprintf(out, "INFO: Jobspec in %s\n", args[1])
}

func (s *Shell) cmdHelp(args []string, out, errOut io.Writer) {
	found := false
	for _, c := range commands {
		if len(args) != 2 || args[1] == c.name || args[1] == c.abbr {
			fmt.Fprintf(out, "INFO: %s (%s) -- %s\n", c.name, c.abbr, c.note)
			found = true
		}
	}
	if len(args) == 2 && !found {
		fmt.Fprintf(out, "ERROR: unknown command: %s\n", clip(args[1]))
	}
}
