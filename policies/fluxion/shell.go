package fluxion

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// ErrShellQuit is returned by Shell.Exec for the quit command.
var ErrShellQuit = errors.New("fluxion: shell: quit")

// Shell output formats.
const (
	// ShellFormatSimple prints the matched vertices as resource-query's
	// simple match writer does: one line per vertex, children before
	// their parent, "      " plus "---" per level, then name[units:x|s].
	ShellFormatSimple = "simple"
	// ShellFormatRLite prints the allocation as RFC 20 R (one JSON line).
	ShellFormatRLite = "rlite"
	// ShellFormatJGF, ShellFormatRV1 and ShellFormatRV1NoSched print the
	// allocation in Fluxion's jgf, rv1 (RFC 20 R with the scheduling JGF)
	// and rv1_nosched match formats (resource-query -F), one JSON line.
	ShellFormatJGF        = FormatJGF
	ShellFormatRV1        = FormatRV1
	ShellFormatRV1NoSched = FormatRV1NoSched
)

// shellFormats are the formats NewShell accepts.
var shellFormats = []string{ShellFormatSimple, ShellFormatRLite, ShellFormatJGF, ShellFormatRV1, ShellFormatRV1NoSched}

// ShellOptions configure a Shell.
type ShellOptions struct {
	// Format is ShellFormatSimple ("" too), ShellFormatRLite,
	// ShellFormatJGF, ShellFormatRV1 or ShellFormatRV1NoSched.
	Format string
	// Stderr receives the diagnostics resource-query writes to its
	// standard error next to a failed match (the errno name and the
	// matcher's message); nil discards them.
	Stderr io.Writer
}

// Shell is a line-oriented command interpreter over a Matcher in the
// style of flux-sched's resource-query (resource/utilities/command.cpp),
// so that sessions can be compared with the real tool line by line.
// Every match is at time 0, as in reapi_cli; job ids come from the
// shell's own counter, which moves on as Matcher.Match's does; the
// without_allocating ops show its current value, as resource-query's
// cmd_match passes the counter where reapi_cli_match passes -1.
//
// Commands (abbreviations in parentheses):
//
//	match (m) OP JOBSPEC   OP: allocate, allocate_with_satisfiability,
//	                       allocate_orelse_reserve, satisfiability,
//	                       without_allocating, without_allocating_future
//	update (u) allocate|reserve jgf|rv1exec FILE JOBID STARTTIME DURATION
//	                       re-install an allocation from R in FILE
//	cancel (c) JOBID
//	partial-cancel (pc) JOBID jgf|rv1exec FILE
//	                       release the part of an allocation R in FILE names
//	info (i) JOBID
//	stat (s)
//	set-status (t) PATH up|down
//	help (h) [COMMAND]
//	quit (q)
//
// JOBSPEC and FILE are file paths, relative to the current directory.
// For update and partial-cancel, the reader says how FILE is read: jgf
// (a JGF) or rv1exec (an RFC 20 R's R_lite); update's STARTTIME and
// DURATION give the span, and a STARTTIME other than 0 records a
// reservation, as resource-query does.
type Shell struct {
	m       *Matcher
	opt     ShellOptions
	next    uint64               // the next job id
	matched int                  // successful allocating matches
	jobs    map[uint64]shellInfo // what info prints, per matched job
}

type shellInfo struct {
	jobspec string
}

// NewShell returns a shell over m.
func NewShell(m *Matcher, opt ShellOptions) (*Shell, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil matcher", ErrInvalid)
	}
	if opt.Format == "" {
		opt.Format = ShellFormatSimple
	}
	if !slices.Contains(shellFormats, opt.Format) {
		return nil, fmt.Errorf("%w: unknown format %s, only (%s) allowed", ErrInvalid, quoted(opt.Format), strings.Join(shellFormats, ", "))
	}
	if opt.Stderr == nil {
		opt.Stderr = io.Discard
	}
	return &Shell{m: m, opt: opt, next: 1, jobs: map[uint64]shellInfo{}}, nil
}

type shellCommand struct {
	name, abbr, usage, note string
	run                     func(s *Shell, args []string, out io.Writer) error
}

var shellCommands []shellCommand

func init() {
	shellCommands = []shellCommand{
		{"match", "m", "match OP JOBSPEC",
			"allocate or reserve resources for a jobspec file (OP: allocate | allocate_with_satisfiability | allocate_orelse_reserve | satisfiability | without_allocating | without_allocating_future)",
			(*Shell).cmdMatch},
		{"update", "u", "update allocate|reserve jgf|rv1exec FILE JOBID STARTTIME DURATION",
			"re-install an allocation (reserve: same; a STARTTIME other than 0 makes a reservation) from the R in FILE, read as a JGF or an RFC 20 R_lite",
			(*Shell).cmdUpdate},
		{"cancel", "c", "cancel JOBID", "cancel an allocation or reservation", (*Shell).cmdCancel},
		{"partial-cancel", "pc", "partial-cancel JOBID jgf|rv1exec FILE",
			"release the part of an allocation named by the R in FILE (rv1exec: whole ranks; jgf: vertices)",
			(*Shell).cmdPartialCancel},
		{"info", "i", "info JOBID", "print a job's id, state, start time and jobspec", (*Shell).cmdInfo},
		{"stat", "s", "stat", "print the numbers of vertices, edges and jobs", (*Shell).cmdStat},
		{"set-status", "t", "set-status PATH up|down", "mark a vertex (and so its subtree) up or down", (*Shell).cmdSetStatus},
		{"help", "h", "help [COMMAND]", "print this help", (*Shell).cmdHelp},
		{"quit", "q", "quit", "end the session", func(*Shell, []string, io.Writer) error { return ErrShellQuit }},
	}
}

// Exec runs one command line, writing its output to out. Blank lines and
// lines starting with "#" do nothing. A malformed or failing command
// returns an error for the caller to report; the shell stays usable.
// quit returns ErrShellQuit. A match that finds nothing is not an error:
// it prints resource-query's failure block.
func (s *Shell) Exec(line string, out io.Writer) error {
	args := strings.Fields(line)
	if len(args) == 0 || strings.HasPrefix(args[0], "#") {
		return nil
	}
	for _, c := range shellCommands {
		if args[0] == c.name || args[0] == c.abbr {
			return c.run(s, args, out)
		}
	}
	return fmt.Errorf("unknown command %s (try help)", quoted(args[0]))
}

// Run reads commands from in, one per line, until EOF or quit. The
// prompt, if not "", is written to out before each line. Errors of Exec
// are written to errOut as "ERROR: ..." and the session goes on; so does
// a line longer than limitio.Line bytes, which is skipped (to its end)
// with an error. Run returns only errors reading in or writing out.
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
		line, long, err := shellReadLine(br, buf[:0], limit)
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
		xerr := s.Exec(string(line), out)
		if errors.Is(xerr, ErrShellQuit) {
			return nil
		}
		if xerr != nil {
			fmt.Fprintf(errOut, "ERROR: %v\n", xerr)
		}
	}
}

// shellReadLine reads one line into buf (without its "\n" or "\r\n").
// A line longer than limit bytes is read to its end but not kept: long
// is true. err is io.EOF at the end of the input, with the last line
// (if it had no newline) in line.
func shellReadLine(br *bufio.Reader, buf []byte, limit int) (line []byte, long bool, err error) {
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

func shellParseOp(name string) (MatchOp, bool) {
	for op := MatchAllocate; op <= MatchWithoutAllocatingFuture; op++ {
		if op.String() == name {
			return op, true
		}
	}
	return 0, false
}

func shellJobID(args []string) (uint64, error) {
	if len(args) != 2 {
		return 0, fmt.Errorf("malformed command: want %s JOBID", args[0])
	}
	id, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed job id %s", quoted(args[1]))
	}
	return id, nil
}

const shellRule = "INFO: ============================="

func (s *Shell) cmdMatch(args []string, out io.Writer) error {
	if len(args) != 3 {
		return fmt.Errorf("malformed command: want match OP JOBSPEC")
	}
	op, ok := shellParseOp(args[1])
	if !ok {
		return fmt.Errorf("unknown match op %s", quoted(args[1]))
	}
	data, err := shellReadFile(args[2], limitio.Jobspec, "jobspec")
	if err != nil {
		return err
	}
	id := s.next
	js, err := ParseJobspec(data, args[2])
	var a *Allocation
	if err == nil {
		a, err = s.m.MatchWithJobID(op, js, 0, id)
	} else {
		err = fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if matchOpAllocates(op) && (err == nil || errors.Is(err, ErrBusy) || errors.Is(err, ErrUnsatisfiable)) {
		s.next++
	}
	if err != nil {
		fmt.Fprintf(s.opt.Stderr, "%s: %v\n", MatchErrno(err), err)
	}
	if op == MatchSatisfiability {
		sat := "Satisfiable"
		if err != nil {
			sat = "Unsatisfiable"
		}
		fmt.Fprintf(out, "%s\nINFO: %s request\n%s\n", shellRule, sat, shellRule)
		return nil
	}
	if err != nil {
		fmt.Fprintf(out, "%s\nINFO: No matching resources found\n", shellRule)
		if errors.Is(err, ErrUnsatisfiable) {
			fmt.Fprintln(out, "INFO: Unsatisfiable request")
		}
		fmt.Fprintf(out, "INFO: JOBID=%d\n%s\n", id, shellRule)
		return nil
	}
	s.writeAlloc(a, out)
	// resource-query's print_schedule_info (command.cpp:169-176):
	// MATCHED for the without_allocating ops, whose JOBID is the
	// counter's value (the counter stays; reapi_cli_impl.hpp:209-212).
	mode, at := "ALLOCATED", "Now"
	if a.At != 0 {
		mode, at = "RESERVED", strconv.FormatInt(a.At, 10)
	}
	if !matchOpAllocates(op) {
		mode = "MATCHED"
	}
	fmt.Fprintf(out, "%s\nINFO: JOBID=%d\nINFO: RESOURCES=%s\nINFO: SCHEDULED AT=%s\n%s\n", shellRule, a.JobID, mode, at, shellRule)
	if op != MatchWithoutAllocating && op != MatchWithoutAllocatingFuture {
		s.matched++
		s.jobs[a.JobID] = shellInfo{jobspec: args[2]}
	}
	return nil
}

// writeAlloc prints a in the shell's format.
func (s *Shell) writeAlloc(a *Allocation, out io.Writer) {
	switch s.opt.Format {
	case ShellFormatSimple:
		s.writeSimple(a, out)
	case ShellFormatRLite:
		fmt.Fprintf(out, "%s\n", a.RLiteJSON())
	default:
		r, _ := a.R(s.opt.Format)
		fmt.Fprintf(out, "%s\n", r)
	}
}

// shellReadFile reads a command's file argument, at most limit bytes (a
// jobspec: limitio.Jobspec; an R, which may carry a JGF of the whole
// allocation: limitio.ResourceGraph). An R must be a JSON object: input
// that cannot start one stops the read at its first byte.
func shellReadFile(name string, limit int64, kind string) ([]byte, error) {
	var data []byte
	var err error
	if kind == "R" {
		data, err = readJSONFile(name, limit, kind)
	} else {
		data, err = limitio.ReadFile(name, limit, kind)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("can't open %s: %w", clip(name), pe.Err)
		}
		return nil, err
	}
	return data, nil
}

// clip returns a command's argument for a message: as it is, or quoted
// and cut when it is long.
func clip(s string) string {
	if len(s) <= msgQuoteMax {
		return s
	}
	return quoted(s)
}

// cmdUpdate is resource-query's "update": the R in FILE is installed
// under JOBID over [STARTTIME, STARTTIME+DURATION). As there, the shell's
// next job id becomes JOBID+1 whether or not the update succeeds, and a
// failed update prints the no-match block.
func (s *Shell) cmdUpdate(args []string, out io.Writer) error {
	if len(args) != 7 {
		return fmt.Errorf("malformed command: want update allocate|reserve jgf|rv1exec FILE JOBID STARTTIME DURATION")
	}
	if args[1] != "allocate" && args[1] != "reserve" {
		return fmt.Errorf("unknown subcmd %s", clip(args[1]))
	}
	if args[2] != readJGF && args[2] != readRV1Exec {
		return fmt.Errorf("unsupported reader %s (jgf or rv1exec)", clip(args[2]))
	}
	data, err := shellReadFile(args[3], limitio.ResourceGraph, "R")
	if err != nil {
		return err
	}
	id, err := strconv.ParseUint(args[4], 10, 64)
	if err != nil {
		return fmt.Errorf("malformed job id %s", quoted(args[4]))
	}
	if _, live := s.m.jobs[id]; live {
		return fmt.Errorf("existing jobid %d", id)
	}
	at, err1 := strconv.ParseInt(args[5], 10, 64)
	dur, err2 := strconv.ParseInt(args[6], 10, 64)
	if err1 != nil || err2 != nil || at < 0 || dur <= 0 {
		return fmt.Errorf("invalid time (%s, %s)", clip(args[5]), clip(args[6]))
	}
	dur = min(dur, s.m.window-at)
	a, err := s.m.install(id, args[2], data, at, dur, at != 0)
	s.next = id + 1
	if errors.Is(err, ErrInvalid) {
		err = fmt.Errorf("%s: %w", clip(args[3]), err) // the file is at fault
	}
	if err != nil {
		fmt.Fprintf(s.opt.Stderr, "%s: %v\n", MatchErrno(err), err)
		fmt.Fprintf(out, "%s\nINFO: No matching resources found\nINFO: JOBID=%d\n%s\n", shellRule, id, shellRule)
		return nil
	}
	s.writeAlloc(a, out)
	mode, when := "ALLOCATED", "Now"
	if a.At != 0 {
		mode, when = "RESERVED", strconv.FormatInt(a.At, 10)
	}
	fmt.Fprintf(out, "%s\nINFO: JOBID=%d\nINFO: RESOURCES=%s\nINFO: SCHEDULED AT=%s\n%s\n", shellRule, id, mode, when, shellRule)
	s.matched++
	s.jobs[id] = shellInfo{jobspec: args[3]}
	return nil
}

// cmdPartialCancel is resource-query's "partial-cancel". It prints
// nothing on success; info then shows CANCELED if nothing was left.
func (s *Shell) cmdPartialCancel(args []string, out io.Writer) error {
	if len(args) != 4 && !(len(args) == 5 && args[4] == "stats") {
		return fmt.Errorf("malformed command: want partial-cancel JOBID jgf|rv1exec FILE")
	}
	id, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		return fmt.Errorf("malformed job id %s", quoted(args[1]))
	}
	if args[2] != readJGF && args[2] != readRV1Exec {
		return fmt.Errorf("unsupported reader %s (jgf or rv1exec)", clip(args[2]))
	}
	data, err := shellReadFile(args[3], limitio.ResourceGraph, "R")
	if err != nil {
		return err
	}
	if job, ok := s.m.jobs[id]; !ok {
		return fmt.Errorf("nonexistent job %d", id)
	} else if job.alloc.Reserved {
		return fmt.Errorf("reservations not currently supported by partial cancel")
	}
	if _, err := s.m.partialCancel(id, args[2], data); err != nil {
		if errors.Is(err, ErrInvalid) {
			return fmt.Errorf("error encountered while removing job %d: %s: %w", id, clip(args[3]), err)
		}
		return fmt.Errorf("error encountered while removing job %d: %w", id, err)
	}
	return nil
}

// writeSimple prints a's vertices and their shared ancestors in
// post-order (children first), each indented by its depth.
func (s *Shell) writeSimple(a *Allocation, out io.Writer) {
	g := s.m.Graph()
	type mark struct {
		units int64
		excl  bool
	}
	in := make(map[VertexID]mark, len(a.Vertices)+len(a.Path))
	for _, v := range a.Path {
		in[v] = mark{1, false}
	}
	for _, av := range a.Vertices {
		u := av.Units
		if !av.Exclusive {
			u = 1
		}
		in[av.ID] = mark{u, av.Exclusive}
	}
	var walk func(v VertexID, depth int)
	walk = func(v VertexID, depth int) {
		for _, c := range g.Children(v) {
			if _, ok := in[c]; ok {
				walk(c, depth+1)
			}
		}
		mk := in[v]
		mode := "s"
		if mk.excl {
			mode = "x"
		}
		fmt.Fprintf(out, "      %s%s[%d:%s]\n", strings.Repeat("---", depth), g.Vertices[v].Name, mk.units, mode)
	}
	if _, ok := in[g.Root]; ok {
		walk(g.Root, 0)
	}
}

func (s *Shell) cmdCancel(args []string, out io.Writer) error {
	id, err := shellJobID(args)
	if err != nil {
		return err
	}
	if err := s.m.Cancel(id); err != nil {
		if errors.Is(err, ErrNoJob) {
			return fmt.Errorf("nonexistent job %d", id)
		}
		return err
	}
	return nil
}

func (s *Shell) cmdInfo(args []string, out io.Writer) error {
	id, err := shellJobID(args)
	if err != nil {
		return err
	}
	a, err := s.m.Info(id)
	if err != nil {
		fmt.Fprintf(out, "ERROR: jobid doesn't exist: %s\n", clip(args[1]))
		return nil
	}
	fmt.Fprintf(out, "INFO: %d, %s, %d, %s, 0\n", id, a.Mode(), a.At, s.jobs[id].jobspec)
	return nil
}

func (s *Shell) cmdStat(args []string, out io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("malformed command: want stat")
	}
	g := s.m.Graph()
	fmt.Fprintf(out, "INFO: Num. of Vertices: %d\n", g.Len())
	fmt.Fprintf(out, "INFO: Num. of Edges: %d\n", g.Len()-1)
	fmt.Fprintf(out, "INFO: Num. of Jobs Matched: %d\n", s.matched)
	fmt.Fprintf(out, "INFO: Num. of Live Jobs: %d\n", len(s.m.Jobs()))
	return nil
}

func (s *Shell) cmdSetStatus(args []string, out io.Writer) error {
	if len(args) != 3 {
		return fmt.Errorf("malformed command: want set-status PATH up|down")
	}
	g := s.m.Graph()
	if _, ok := g.Lookup(args[1]); !ok {
		fmt.Fprintf(out, "Could not find path %s in resource graph.\n", clip(args[1]))
		return nil
	}
	var st Status
	switch args[2] {
	case "up":
		st = StatusUp
	case "down":
		st = StatusDown
	default:
		return fmt.Errorf("unrecognized status %s, only (up, down) allowed", quoted(args[2]))
	}
	return g.SetStatus(args[1], st)
}

func (s *Shell) cmdHelp(args []string, out io.Writer) error {
	found := false
	for _, c := range shellCommands {
		if len(args) == 1 || args[1] == c.name || args[1] == c.abbr {
			fmt.Fprintf(out, "INFO: %s (%s) -- %s: %s\n", c.name, c.abbr, c.note, c.usage)
			found = true
		}
	}
	if !found {
		return fmt.Errorf("unknown command: %s", clip(args[1]))
	}
	return nil
}
