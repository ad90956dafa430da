package traces

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convergesim/converge/internal/limitio"
)

// The canopie22 format: the MPIJob run logs of the CANOPIE-22 scaling
// experiments (flux-framework/flux-k8s, branch canopie22-artifacts): a
// gzip'd tar of one log per MPIJob, <app>_<hash>_<scheduler>_<date>.out,
// with the experiment's config (<app>-experiment-config.json, a Python
// literal) and the cluster's node list (config.log or cluster.log, the
// Python repr of a kubernetes-client V1NodeList); or one such log, or one
// such node list, on its own.
//
// Each log is a shell trace of the launcher (+ mpirun ... -np N ...), the
// application's output, then what the driver script printed: the node of
// every worker pod ("<job>-worker-<i> --> <node>"), the run configuration
// (ranks, pods, slots and memory per pod, the launcher's cpus and
// memory), and the MPIJob's start-up time (created → running), run time
// (running → succeeded) and end-to-end time.
func init() {
	register(&Format{
		Name:   "canopie22",
		Doc:    "MPIJob run logs of the CANOPIE-22 experiments (a .tgz of <app>_<hash>_<scheduler>_<date>.out, one log, or a config.log node list)",
		Detect: detectCanopie,
		Read:   readCanopie,
		Ext:    ".tgz",
	})
}

// MaxMember is the largest member of a canopie22 archive read (the
// largest real one, a node list, is about 600 KB).
const MaxMember = 64 * limitio.MiB

// maxConfig is the largest experiment config read (a real one is about
// 1.3 KB; it is held whole while read).
const maxConfig = limitio.MiB

// canopieLogName is a log's name: app, hash, scheduler, date.
var canopieLogName = regexp.MustCompile(`^([a-z][a-z0-9]*)_([0-9a-f]{6,})_([A-Za-z0-9-]+)_(\d{4}-\d{2}-\d{2}_T\d{4}_\d{2})\.out$`)

func detectCanopie(head []byte, keys []string) bool {
	if isTar(head) {
		// The members whose headers head holds: one of them is a log,
		// the config or the node list (a real archive may start with a
		// test run's log of another name).
		for off := 0; off+512 <= len(head) && isTar(head[off:]); {
			h := head[off : off+512]
			name := string(bytes.TrimRight(h[:100], "\x00"))
			if isCanopieMember(path.Base(name)) {
				return true
			}
			sz, err := strconv.ParseInt(strings.Trim(string(h[124:136]), " \x00"), 8, 64)
			if err != nil || sz < 0 || sz > int64(len(head)) {
				return false
			}
			off += 512 + int((sz+511)/512*512)
		}
		return false
	}
	return isCanopieLog(head) || isNodeListRepr(head)
}

// isCanopieMember reports a member name of a canopie22 archive.
func isCanopieMember(base string) bool {
	return canopieLogName.MatchString(base) || base == "config.log" || base == "cluster.log" ||
		strings.HasSuffix(base, "experiment-config.json")
}

// isCanopieLog reports the start of one MPIJob log: the driver's own
// lines, or the launcher's shell trace of mpirun.
func isCanopieLog(head []byte) bool {
	if bytes.Contains(head, []byte("MPIJob startup time for job ")) || bytes.Contains(head, []byte("MPIJob runtime for job ")) {
		return true
	}
	if bytes.Contains(head, []byte("\nMapping for job ")) && bytes.Contains(head, []byte(" for scheduler ")) {
		return true
	}
	return bytes.HasPrefix(head, []byte("+ ")) && bytes.Contains(head, []byte("\n+ mpirun ")) && bytes.Contains(head, []byte(" -np "))
}

// isNodeListRepr reports the Python repr of a V1NodeList.
func isNodeListRepr(head []byte) bool {
	return bytes.HasPrefix(head, []byte("{'api_version': 'v1',")) && bytes.Contains(head, []byte("'items': ["))
}

// canopieConfig is one exp_config entry of an experiment config.
type canopieConfig struct {
	ranks, pods, cpus, slots int
	memGiB                   float64
}

// canopieRead is the state of one file read.
type canopieRead struct {
	t       *Trace
	jobs    []*Job
	configs []canopieConfig
	params  map[string]string // the config's spec-wide parameters
	workers map[string][]*Pod // the worker pods of each job read
}

func readCanopie(in *Input, t *Trace) error {
	r := &canopieRead{t: t, workers: map[string][]*Pod{}}
	head := in.Head(sniffSize)
	switch {
	case isTar(head):
		if err := r.archive(in); err != nil {
			return err
		}
	case isNodeListRepr(head):
		if err := r.nodeList(in.Reader(), in.Name); err != nil {
			return err
		}
	default:
		if err := r.log(in, path.Base(in.Name)); err != nil {
			return err
		}
	}
	r.finish()
	return nil
}

// archive reads a tar stream member by member.
func (r *canopieRead) archive(in *Input) error {
	tr := tar.NewReader(in.Reader())
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return in.Errorf(0, "", "a broken tar archive after %d members: %v", n, tarErr(err))
		}
		if n >= MaxRecords {
			return in.Errorf(0, "", "more than %d members", MaxRecords)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := in.Name + ":" + h.Name
		if h.Size > MaxMember || h.Size < 0 {
			return fmt.Errorf("%s: a member of %d bytes, over the limit of %s (is it the right file?)", name, h.Size, limitio.Size(MaxMember))
		}
		base := path.Base(h.Name)
		switch {
		case canopieLogName.MatchString(base):
			mi, err := NewInput(tr, name)
			if err != nil {
				return err
			}
			if err := r.log(mi, base); err != nil {
				return err
			}
		case base == "config.log" || base == "cluster.log":
			if err := r.nodeList(tr, name); err != nil {
				return err
			}
		case strings.HasSuffix(base, "experiment-config.json"):
			if err := r.config(tr, name); err != nil {
				return err
			}
		default:
			// 236gb_test.log and the like: a test run of no MPIJob.
			r.t.Note("canopie22-other", name, "archive members that are not MPIJob logs, experiment configs or node lists were skipped")
		}
	}
}

// tarErr says what a tar reading error means.
func tarErr(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the archive is truncated"
	}
	return err.Error()
}

// log reads one MPIJob log (base is its file name).
func (r *canopieRead) log(in *Input, base string) error {
	j := NewJob("")
	j.Kind = "MPIJob"
	j.Params = map[string]string{"log": base}
	submit := NaN
	if m := canopieLogName.FindStringSubmatch(base); m != nil {
		j.App, j.Scheduler = m[1], m[3]
		j.ID = m[1] + "-" + m[2]
		if tm, err := time.Parse("2006-01-02_T1504_05", m[4]); err == nil {
			submit = float64(tm.Unix())
		}
	}
	var workers []*Pod
	runtime, startup := NaN, NaN
	var pending string // the AMG timer whose wall clock line comes next
	qmc := 0
	haveRanks := false
	err := in.Lines(func(b []byte, n int) error {
		line := string(b)
		f := strings.Fields(line)
		trim := strings.TrimSpace(line)
		bad := func(field string) error {
			return in.Errorf(n, field, "cannot read %s", quote(line))
		}
		switch {
		case strings.HasPrefix(line, "+ mpirun "):
			j.Params["command"] = strings.TrimPrefix(line, "+ ")
			for i := 0; i+1 < len(f); i++ {
				if f[i] == "-np" {
					v, err := canopieCount(f[i+1])
					if err != nil {
						return in.Errorf(n, "mpirun -np", "%v", err)
					}
					j.Tasks = v
				}
			}
		case strings.HasPrefix(line, "Mapping for job ") && len(f) >= 7:
			// Mapping for job <hash> for scheduler <name>
			j.Scheduler = f[len(f)-1]
		case len(f) == 3 && f[1] == "-->" && strings.Contains(f[0], "-worker-"):
			p := NewPod("", f[0])
			p.Node, p.Role, p.Line = f[2], "worker", n
			if i := strings.LastIndex(f[0], "-worker-"); i >= 0 {
				if k, err := canopieCount(f[0][i+len("-worker-"):]); err == nil {
					p.Index = k
				}
			}
			workers = append(workers, p)
			if len(workers) > MaxCount {
				return in.Errorf(n, "pods", "more than %d pods", MaxCount)
			}
		case strings.HasPrefix(line, "Ranks: "):
			// Ranks: 288, pods: 6, pods per node: 1
			if len(f) < 4 {
				return bad("Ranks")
			}
			ranks, err1 := canopieCount(strings.TrimSuffix(f[1], ","))
			pods, err2 := canopieCount(strings.TrimSuffix(f[3], ","))
			if err := errors.Join(err1, err2); err != nil || ranks == 0 || pods == 0 {
				return bad("Ranks")
			}
			j.Params["ranks"], j.Params["pods"] = strconv.Itoa(ranks), strconv.Itoa(pods)
			if len(f) >= 8 {
				if v, err := canopieCount(f[7]); err == nil {
					j.Params["pods_per_node"] = strconv.Itoa(v)
				}
			}
			haveRanks = true
		case strings.HasPrefix(line, "Slots per pod: "):
			// Slots per pod: 94, GiB memory per pod: 346.0
			if len(f) < 8 {
				return bad("Slots per pod")
			}
			slots, err1 := canopieCount(strings.TrimSuffix(f[3], ","))
			mem, err2 := canopieSize(f[len(f)-1])
			if err := errors.Join(err1, err2); err != nil {
				return bad("Slots per pod")
			}
			j.Params["slots_per_pod"], j.Params["memory_gib_per_pod"] = strconv.Itoa(slots), canopieNum(mem)
		case strings.HasPrefix(line, "Launcher CPUs: "):
			// Launcher CPUs: 94, launcher memory in GiB: 346
			if len(f) < 8 {
				return bad("Launcher CPUs")
			}
			cpus, err1 := canopieCount(strings.TrimSuffix(f[2], ","))
			mem, err2 := canopieSize(f[len(f)-1])
			if err := errors.Join(err1, err2); err != nil {
				return bad("Launcher CPUs")
			}
			j.Params["launcher_cpus"], j.Params["launcher_memory_gib"] = strconv.Itoa(cpus), canopieNum(mem)
		case strings.HasPrefix(line, "MPIJob startup time for job "), strings.HasPrefix(line, "MPIJob runtime for job "),
			strings.HasPrefix(line, "MPIJob end-to-end time for job "):
			// MPIJob startup time for job <name> is <s> seconds
			// MPIJob end-to-end time for job <name> <s> seconds
			if len(f) < 8 || f[len(f)-1] != "seconds" {
				return bad(f[1])
			}
			v, err := canopieSeconds(f[len(f)-2])
			if err != nil {
				return in.Errorf(n, f[1], "%v", err)
			}
			if f[5] != "" && j.ID == "" {
				j.ID = f[5]
			}
			switch f[1] {
			case "startup":
				startup = v
			case "runtime":
				runtime = v
			default:
				j.Params["end_to_end"] = canopieNum(v)
			}
		case line == "Spatial Operator:":
			pending = "generate"
		case line == "PCG Setup:":
			pending = "setup"
		case line == "PCG Solve:":
			pending = "solve"
		case pending != "" && strings.HasPrefix(trim, "wall clock time ="):
			canopieStage(j, pending, f, 4)
			pending = ""
		case strings.HasPrefix(line, "Iterations = "):
			canopieStage(j, "iterations", f, 2)
		case strings.HasPrefix(line, "Loop time of "):
			canopieStage(j, "loop", f, 3)
		case strings.HasPrefix(trim, "Initialization Execution time ="):
			canopieStage(j, "init", f, 4)
		case strings.HasPrefix(trim, "QMC Execution time ="):
			qmc++
			canopieStage(j, fmt.Sprintf("qmc%d", qmc), f, 4)
		case strings.HasPrefix(trim, "Total Execution time ="):
			canopieStage(j, "total", f, 4)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !haveRanks || !Known(runtime) {
		return in.Errorf(0, "", "not a complete MPIJob log: no \"Ranks:\" or \"MPIJob runtime\" line")
	}
	if j.ID == "" {
		return in.Errorf(0, "", "no MPIJob name (neither in the file name <app>_<hash>_<scheduler>_<date>.out nor in an \"MPIJob ... for job\" line)")
	}
	if j.App == "" {
		if i := strings.LastIndexByte(j.ID, '-'); i > 0 {
			j.App = j.ID[:i]
		}
	}
	if r.t.FindJob(j.ID) != nil {
		return in.Errorf(0, "", "MPIJob %s read twice", quote(j.ID))
	}
	j.Name = j.ID
	j.Startup, j.Submit = startup, submit
	if Known(submit) {
		r.t.Note("canopie22-submit", in.Name, "an MPIJob's submit time is the time in its log's name (<app>_<hash>_<scheduler>_YYYY-MM-DD_THHMM_SS.out, taken as UTC, as the archive's modification times agree): when the driver started the log, to the second; start = submit + MPIJob startup time, end = start + MPIJob runtime")
		if Known(startup) {
			j.Start = submit + startup
			j.End = j.Start + runtime
		}
	} else {
		r.t.Note("canopie22-no-submit", in.Name, "a log whose name carries no date: the MPIJob's submit, start and end times are unknown; its startup and run times are kept")
	}
	if !Known(startup) {
		r.t.Note("canopie22-no-startup", in.Name, "a log without an \"MPIJob startup time\" line: start and end are unknown")
	}
	j.Params["runtime"] = canopieNum(runtime)
	j.Status = "completed"
	j.Line = 1
	if len(workers) == 0 {
		r.t.Note("canopie22-no-mapping", in.Name, "a log that lists no worker pod (no \"<job>-worker-<i> --> <node>\" lines): the MPIJob has no pods")
	}
	// The worker list is sorted by name (worker-10 before worker-2):
	// order the pods by index.
	slices.SortStableFunc(workers, func(a, b *Pod) int { return a.Index - b.Index })
	r.t.Jobs = append(r.t.Jobs, j)
	r.t.jobIndex = nil
	for _, w := range workers {
		p, added := r.t.Pod(w.Namespace, w.Name)
		if !added {
			return in.Errorf(w.Line, "pods", "pod %s listed twice", quote(w.Name))
		}
		*p = *w
		p.Job, p.Scheduler, p.Phase = j.ID, j.Scheduler, "Succeeded"
		r.workers[j.ID] = append(r.workers[j.ID], p)
	}
	if _, ok := j.Params["launcher_cpus"]; ok {
		// The launcher pod is not in the mapping: MPI Operator names it
		// <job>-launcher; it ran on a launcher node the log does not name.
		p, added := r.t.Pod("", j.ID+"-launcher")
		if !added {
			return in.Errorf(0, "pods", "pod %s listed twice", quote(j.ID+"-launcher"))
		}
		p.Job, p.Role, p.Scheduler, p.Phase, p.Index = j.ID, "launcher", j.Scheduler, "Succeeded", -1
		cpus, _ := strconv.Atoi(j.Params["launcher_cpus"])
		mem, _ := strconv.ParseFloat(j.Params["launcher_memory_gib"], 64)
		p.CPU, p.Memory = int64(cpus)*1000, int64(math.Round(mem*(1<<30)))
		r.t.Note("canopie22-launcher", p.Name, "the launcher pod of an MPIJob is not listed in its log: it is added as <job>-launcher with the launcher's cpus and memory, its node unknown")
	}
	r.t.Note("canopie22-pod-times", j.ID, "the logs record no pod times (only the MPIJob's start-up and run times): pods carry their node and requests only")
	r.jobs = append(r.jobs, j)
	return nil
}

// stage records an application timer read from field i of a line.
func canopieStage(j *Job, name string, f []string, i int) {
	if i >= len(f) {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(f[i], ","), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxSeconds {
		return
	}
	j.Params["stage."+name] = canopieNum(v)
}

// count reads a non-negative count of at most MaxCount.
func canopieCount(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > MaxCount {
		return 0, fmt.Errorf("%s is not a count (0 to %d)", quote(s), MaxCount)
	}
	return v, nil
}

// seconds reads a duration of 0 to MaxSeconds.
func canopieSeconds(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > MaxSeconds {
		return 0, fmt.Errorf("%s is not a duration (0 to %g s)", quote(s), float64(MaxSeconds))
	}
	return v, nil
}

// size reads a GiB amount of 0 to 1 PiB.
func canopieSize(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, ","), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1<<20 {
		return 0, fmt.Errorf("%s is not a size in GiB", quote(s))
	}
	return v, nil
}

func canopieNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// config reads an experiment config (a Python literal: a list of
// {metadata, spec: {launcher_cpus, launcher_memory_gb, exp_config: [...],
// and the application's problem parameters}}).
func (r *canopieRead) config(rd io.Reader, name string) error {
	p := newPyReader(limitio.Reader(rd, name, maxConfig, "experiment config"), name)
	v, err := p.value(0, true)
	if err != nil {
		return err
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	if r.params == nil {
		r.params = map[string]string{}
	}
	for _, e := range list {
		spec, _ := pyGet(e, "spec").(map[string]any)
		for k, v := range spec {
			switch x := v.(type) {
			case string:
				r.params[k] = x
			case float64:
				r.params[k] = canopieNum(x)
			case []any:
				if k == "exp_config" {
					continue
				}
				var s []string
				for _, y := range x {
					s = append(s, fmt.Sprint(y))
				}
				r.params[k] = strings.Join(s, "; ")
			}
		}
		cfgs, _ := spec["exp_config"].([]any)
		for _, c := range cfgs {
			get := func(k string) float64 { f, _ := pyGet(c, k).(float64); return f }
			r.configs = append(r.configs, canopieConfig{ranks: int(get("ranks")), pods: int(get("pods")),
				cpus: int(get("cpus_per_pod")), slots: int(get("slots_per_pod")), memGiB: get("pod_memory_gb")})
		}
	}
	return nil
}

// finish gives the jobs of the file their configured cpus per pod and
// their pods their requests, once the whole archive is read (its config
// may come after the logs).
func (r *canopieRead) finish() {
	for _, j := range r.jobs {
		ranks, _ := strconv.Atoi(j.Params["ranks"])
		pods, _ := strconv.Atoi(j.Params["pods"])
		slots, _ := strconv.Atoi(j.Params["slots_per_pod"])
		cpus := 0
		for _, c := range r.configs {
			if c.ranks == ranks && c.pods == pods && c.cpus > 0 {
				cpus = c.cpus
				break
			}
		}
		if cpus == 0 {
			// no entry of this size: the config's one value, if one
			for _, c := range r.configs {
				if c.cpus > 0 && cpus != 0 && c.cpus != cpus {
					cpus = -1
					break
				}
				if c.cpus > 0 && cpus == 0 {
					cpus = c.cpus
				}
			}
		}
		if cpus <= 0 {
			cpus = slots
			if len(r.configs) > 0 || r.params != nil {
				r.t.Note("canopie22-cpus", j.ID, "an MPIJob whose experiment config gives no cpus_per_pod for its size: its workers' cpu request is taken as its slots per pod")
			}
		} else {
			j.Params["cpus_per_pod"] = strconv.Itoa(cpus)
		}
		for k, v := range r.params {
			if _, ok := j.Params["config."+k]; !ok {
				j.Params["config."+k] = v
			}
		}
		mem, _ := strconv.ParseFloat(j.Params["memory_gib_per_pod"], 64)
		for _, p := range r.workers[j.ID] {
			p.CPU, p.Memory = int64(cpus)*1000, int64(math.Round(mem*(1<<30)))
		}
	}
}

// nodeList reads the Python repr of a V1NodeList, one item at a time.
func (r *canopieRead) nodeList(rd io.Reader, name string) error {
	p := newPyReader(limitio.Reader(rd, name, MaxMember, "node list"), name)
	if err := p.expect('{'); err != nil {
		return err
	}
	return p.items('}', func(int) error {
		k, err := p.value(1, true)
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if k != "items" {
			_, err := p.value(1, false)
			return err
		}
		if err := p.expect('['); err != nil {
			return err
		}
		return p.items(']', func(int) error {
			line := p.line
			v, err := p.value(2, true)
			if err != nil {
				return err
			}
			n, err := reprNode(v)
			if err != nil {
				return posErr(name, line, "items", err.Error())
			}
			r.addNode(n, name)
			return nil
		})
	})
}

// addNode adds a node unless the trace has one by its name (every
// archive of the study holds the same node list).
func (r *canopieRead) addNode(n *Node, name string) {
	for _, m := range r.t.Nodes {
		if m.Name == n.Name {
			return
		}
	}
	r.t.Nodes = append(r.t.Nodes, n)
}

// reprNode reads one V1Node of a repr.
func reprNode(v any) (*Node, error) {
	n := &Node{Name: pyString(pyGet(v, "metadata", "name")), Labels: map[string]string{}}
	if n.Name == "" {
		return nil, errors.New("a node without metadata.name")
	}
	if l, ok := pyGet(v, "metadata", "labels").(map[string]any); ok {
		for k, v := range l {
			n.Labels[k] = pyString(v)
		}
	}
	alloc, _ := pyGet(v, "status", "allocatable").(map[string]any)
	for _, q := range []struct {
		key   string
		to    *int64
		milli bool
	}{{"cpu", &n.CPU, true}, {"memory", &n.Memory, false}, {"nvidia.com/gpu", &n.GPU, false}, {"pods", &n.Pods, false}} {
		s, ok := alloc[q.key].(string)
		if !ok {
			continue
		}
		x, err := canopieQty(s, q.milli)
		if err != nil {
			return nil, fmt.Errorf("node %s: status.allocatable.%s: %v", quote(n.Name), q.key, err)
		}
		*q.to = x
	}
	if taints, ok := pyGet(v, "spec", "taints").([]any); ok {
		for _, t := range taints {
			s := pyString(pyGet(t, "key"))
			if val := pyString(pyGet(t, "value")); val != "" {
				s += "=" + val
			}
			n.Taints = append(n.Taints, s+":"+pyString(pyGet(t, "effect")))
		}
	}
	n.Unschedulable, _ = pyGet(v, "spec", "unschedulable").(bool)
	if conds, ok := pyGet(v, "status", "conditions").([]any); ok {
		for _, c := range conds {
			if pyString(pyGet(c, "type")) == "Ready" {
				n.Ready = pyString(pyGet(c, "status")) == "True"
			}
		}
	}
	return n, nil
}

// parseQty reads a Kubernetes quantity: as millis (cpu: "95690m", "96")
// or as units (memory "364800732Ki", pods "100").
func canopieQty(s string, milli bool) (int64, error) {
	mult := 1.0
	num := s
	for _, u := range []struct {
		suf string
		m   float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
		{"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18}} {
		if strings.HasSuffix(s, u.suf) {
			mult, num = u.m, strings.TrimSuffix(s, u.suf)
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || v < 0 {
		return 0, fmt.Errorf("%s is not a quantity", quote(s))
	}
	v *= mult
	if milli {
		v *= 1000
	}
	if v >= 1<<62 {
		return 0, fmt.Errorf("%s is too large", quote(s))
	}
	return int64(math.Round(v)), nil
}
