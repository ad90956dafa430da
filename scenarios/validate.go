package scenarios

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/workloads/apps"
	"github.com/convergesim/converge/workloads/launchers"
)

type validator struct {
	locator
	workloads []string // the scenario's workload names, for references
	// parameter files loaded, by path (read once per scenario)
	apps      map[string]*apps.File
	launchers map[string]*launchers.File
	bandwidth float64 // the slowest image pull rate configured, bytes/s (0: unlimited)
}

// duration checks a duration in seconds: not negative, at most
// MaxDuration.
func (v *validator) duration(path string, x float64) error {
	switch {
	case !(x >= 0):
		return v.errf(path, "must not be negative, got %v", x)
	case x > MaxDuration:
		return v.errf(path, "%v", errTooLong("", x))
	}
	return nil
}

// rate checks a rate per second: 0 (unlimited) or at least one per
// MaxDuration.
func (v *validator) rate(path string, x float64) error {
	if x != 0 && !(x >= 1/MaxDuration) {
		return v.errf(path, "must be 0 (unlimited) or at least 1e-9 per second (one per %s), got %v", maxDurationText, x)
	}
	return nil
}

// slowestPull is the lowest of the configured image bandwidths.
func slowestPull(s *Startup) float64 {
	bw := 0.0
	for _, b := range []*Bytes{s.RegistryBandwidth, s.NodeBandwidth} {
		if b != nil && *b > 0 && (bw == 0 || float64(*b) < bw) {
			bw = float64(*b)
		}
	}
	return bw
}

var scenarioName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$`)

var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

var taintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

func validate(sc *Scenario, dir string) error {
	v := &validator{locator: locator{lines: sc.lines, applied: sc.Applied}}
	for i := range sc.Workloads {
		v.workloads = append(v.workloads, sc.Workloads[i].Name)
	}
	if !v.given("version") {
		return v.errf("version", "required (this build reads version: %d)", SchemaVersion)
	}
	if sc.Version != SchemaVersion {
		return v.errf("version", "unsupported schema version %d (this build reads version: %d)", sc.Version, SchemaVersion)
	}
	if v.given("name") && !scenarioName.MatchString(sc.Name) {
		return v.errf("name", "%s is not a valid scenario name: at most 253 letters, digits, '-', '_' and '.', not starting with '.' or '-' (it names the default output folder, out/<name>)", quote(sc.Name))
	}
	if err := v.duration("until", sc.Until); err != nil {
		return err
	}
	if err := v.duration("stallTimeout", sc.StallTimeout); err != nil {
		return err
	}
	if err := v.cluster(&sc.Cluster); err != nil {
		return err
	}
	if err := v.startup(&sc.Startup, &sc.Controllers); err != nil {
		return err
	}
	if err := v.policy(&sc.Policy); err != nil {
		return err
	}
	if len(sc.Workloads) == 0 {
		return v.errf("workloads", "at least one workload is required")
	}
	v.bandwidth = slowestPull(&sc.Startup)
	if err := v.usernetes(sc); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range sc.Workloads {
		path := fmt.Sprintf("workloads[%d]", i)
		if w := &sc.Workloads[i]; w.Trace != nil {
			if err := v.tracedWorkload(sc, w, path, dir, names); err != nil {
				return err
			}
		} else if err := v.workload(w, path, names); err != nil {
			return err
		}
		if err := v.schedulerOf(sc, i); err != nil {
			return err
		}
		if e := sc.Workloads[i].Experiment; e != "" && sc.workload(e) == nil {
			return v.errf(fmt.Sprintf("workloads[%d].experiment", i), "%s is not a workload of the scenario", quote(e))
		}
	}
	if err := v.shell(sc.Startup.Shell); err != nil {
		return err
	}
	if err := v.workflows(sc); err != nil {
		return err
	}
	if err := v.duration("outputs.boundedSlowdownThreshold", sc.Outputs.BoundedSlowdownThreshold); err != nil {
		return err
	}
	res, err := v.resolveRuntimes(sc, dir)
	if err != nil {
		return err
	}
	sc.res = res
	return v.priceApps(sc)
}

func (v *validator) cluster(c *Cluster) error {
	if len(c.Pools) == 0 {
		return v.errf("cluster.pools", "at least one node pool is required")
	}
	names := map[string]bool{}
	for i := range c.Pools {
		p := &c.Pools[i]
		path := fmt.Sprintf("cluster.pools[%d]", i)
		switch {
		case p.Name == "":
			return v.errf(path+".name", "required")
		case !dnsName.MatchString(p.Name):
			return v.errf(path+".name", "%s is not a valid node name prefix (lower-case letters, digits, '-' and '.')", quote(p.Name))
		case names[p.Name]:
			return v.errf(path+".name", "duplicate pool name %s", quote(p.Name))
		case p.Count < 1:
			return v.errf(path+".count", "must be at least 1, got %d", p.Count)
		case p.CPU <= 0:
			return v.errf(path+".cpu", "must be greater than 0 (allocatable cpu per node, e.g. 16 or 15500m)")
		case p.Memory <= 0:
			return v.errf(path+".memory", "must be greater than 0 (allocatable memory per node, e.g. 64Gi)")
		case p.GPUs < 0 || p.GPUs > MaxQuantity:
			return v.errf(path+".gpus", "must be between 0 and %d, got %d", int64(MaxQuantity), p.GPUs)
		case p.Pods < 0 || (v.given(path+".pods") && p.Pods == 0) || p.Pods > MaxQuantity:
			return v.errf(path+".pods", "must be between 1 and %d, got %d", int64(MaxQuantity), p.Pods)
		case p.Racks < 0 || p.Racks > p.Count:
			return v.errf(path+".racks", "must be between 0 and count (%d), got %d", p.Count, p.Racks)
		case p.MemoryBandwidth < 0:
			return v.errf(path+".memoryBandwidth", "must not be negative, got %v", p.MemoryBandwidth)
		case p.CoreSpeed < 0:
			return v.errf(path+".coreSpeed", "must not be negative, got %v", p.CoreSpeed)
		}
		names[p.Name] = true
		for j, z := range p.Zones {
			if z == "" {
				return v.errf(fmt.Sprintf("%s.zones[%d]", path, j), "must not be empty")
			}
		}
		for k := range p.Labels {
			if k == "" {
				return v.errf(path+".labels", "label keys must not be empty")
			}
		}
		for j, t := range p.Taints {
			tp := fmt.Sprintf("%s.taints[%d]", path, j)
			if t.Key == "" {
				return v.errf(tp+".key", "required")
			}
			if !slices.Contains(taintEffects, t.Effect) {
				return v.errf(tp+".effect", "unknown effect %s (valid: %s)", quote(t.Effect), strings.Join(taintEffects, ", "))
			}
		}
		seen := map[string]bool{}
		for j, im := range p.Images {
			ip := fmt.Sprintf("%s.images[%d]", path, j)
			switch {
			case im.Image == "":
				return v.errf(ip+".image", "required (the image name, as a container names it)")
			case seen[im.Image]:
				return v.errf(ip+".image", "duplicate image %s", quote(im.Image))
			case im.Size < 0:
				return v.errf(ip+".size", "must not be negative")
			}
			seen[im.Image] = true
		}
	}
	return nil
}

func (v *validator) startup(s *Startup, c *Controllers) error {
	nonNeg := func(path string, x *float64) error {
		if x != nil && *x < 0 {
			return v.errf(path, "must not be negative, got %v", *x)
		}
		return nil
	}
	for _, f := range []struct {
		path string
		x    *float64
	}{
		{"startup.registryPullQPS", s.RegistryPullQPS}, {"startup.imageBackoffInitial", s.ImageBackoffInitial},
		{"startup.imageBackoffMax", s.ImageBackoffMax}, {"startup.podWorkerBackoff", s.PodWorkerBackoff},
		{"startup.syncLoopPeriod", s.SyncLoopPeriod},
		{"controllers.jobQPS", c.JobQPS}, {"controllers.clientQPS", c.ClientQPS},
	} {
		if err := nonNeg(f.path, f.x); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		path string
		x    *float64
	}{
		{"startup.imageBackoffInitial", s.ImageBackoffInitial}, {"startup.imageBackoffMax", s.ImageBackoffMax},
		{"startup.podWorkerBackoff", s.PodWorkerBackoff}, {"startup.syncLoopPeriod", s.SyncLoopPeriod},
	} {
		if f.x != nil {
			if err := v.duration(f.path, *f.x); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct {
		path string
		x    *float64
	}{
		{"startup.registryPullQPS", s.RegistryPullQPS}, {"controllers.jobQPS", c.JobQPS}, {"controllers.clientQPS", c.ClientQPS},
	} {
		if f.x != nil {
			if err := v.rate(f.path, *f.x); err != nil {
				return err
			}
		}
	}
	if s.PodWorkerJitter != nil && (*s.PodWorkerJitter < 0 || *s.PodWorkerJitter > 1) {
		return v.errf("startup.podWorkerJitter", "must be between 0 and 1, got %v", *s.PodWorkerJitter)
	}
	if s.ImageBackoffInitial != nil && *s.ImageBackoffInitial == 0 {
		return v.errf("startup.imageBackoffInitial", "must be greater than 0")
	}
	for _, f := range []struct {
		path string
		x    *int
		min  int
	}{
		{"startup.sandboxConcurrency", s.SandboxConcurrency, 0}, {"startup.registryBurst", s.RegistryBurst, 1},
		{"controllers.jobBurst", c.JobBurst, 1}, {"controllers.clientBurst", c.ClientBurst, 1},
	} {
		if f.x != nil && *f.x < f.min {
			return v.errf(f.path, "must be at least %d, got %d", f.min, *f.x)
		}
	}
	for _, f := range []struct {
		path string
		x    *Bytes
	}{{"startup.registryBandwidth", s.RegistryBandwidth}, {"startup.nodeBandwidth", s.NodeBandwidth}} {
		if f.x != nil && *f.x < 0 {
			return v.errf(f.path, "must not be negative")
		}
	}
	return nil
}

func (v *validator) hasWorkload(name string) bool { return slices.Contains(v.workloads, name) }

func (v *validator) policy(p *Policy) error {
	if p.Name == "" {
		return v.errf("policy.name", "required (valid: %s)", strings.Join(Policies.Names(), ", "))
	}
	if _, err := Policies.Lookup(p.Name); err != nil {
		return v.errf("policy.name", "%s", short(err))
	}
	reads := Policies.SectionsOf(p.Name)
	for _, name := range Policies.SectionNames() {
		cfg, given := p.Sections[name]
		if !given {
			continue
		}
		path := "policy." + name
		if !slices.Contains(reads, name) {
			return v.errf(path, "settings for %s, but policy %s does not read them (it reads: %s)", name, quote(p.Name), strings.Join(reads, ", "))
		}
		if refs, ok := cfg.(policies.WorkloadRefs); ok {
			field, names := refs.WorkloadRefs()
			for i, n := range names {
				if !v.hasWorkload(n) {
					return v.errf(fmt.Sprintf("%s.%s[%d]", path, field, i), "no workload %s in the scenario (workloads: %s)", quote(n), strings.Join(v.workloads, ", "))
				}
			}
		}
		if val := Policies.Section(name).Validate; val != nil {
			if err := val(cfg, sectionChecker{v, path}); err != nil {
				var fe *policies.FieldError
				var le *Error
				switch {
				case errors.As(err, &le):
					return le
				case errors.As(err, &fe):
					return v.errf(path+"."+fe.Field, "%s", short(errors.New(fe.Msg)))
				}
				return v.errf(path, "%s", short(err))
			}
		}
	}
	return nil
}

// sectionChecker applies the scenario's bounds to the fields of one
// policy section, locating errors at policy.<section>.<field>.
type sectionChecker struct {
	v    *validator
	path string
}

func (c sectionChecker) Seconds(field string, x float64) error {
	return c.v.duration(c.path+"."+field, x)
}
func (c sectionChecker) Rate(field string, x float64) error { return c.v.rate(c.path+"."+field, x) }

var kinds = []string{"Pod", "Job", "IndexedJob", "MPIJob", "MiniCluster", "PyTorchJob", "FluxJob"}

var pullPolicies = []string{"Always", "IfNotPresent", "Never"}

// workloadName checks a workload's name (required, an object name, not
// another workload's) and records it.
func (v *validator) workloadName(w *Workload, path string, names map[string]bool) error {
	switch {
	case w.Name == "":
		return v.errf(path+".name", "required")
	case !dnsName.MatchString(w.Name):
		return v.errf(path+".name", "%s is not a valid object name (lower-case letters, digits, '-' and '.')", quote(w.Name))
	case names[w.Name]:
		return v.errf(path+".name", "duplicate workload name %s", quote(w.Name))
	}
	names[w.Name] = true
	return nil
}

func (v *validator) workload(w *Workload, path string, names map[string]bool) error {
	if err := v.workloadName(w, path, names); err != nil {
		return err
	}
	switch {
	case !slices.Contains(kinds, w.Kind):
		return v.errf(path+".kind", "unknown kind %s (valid: %s)", quote(w.Kind), strings.Join(kinds, ", "))
	case w.Count < 0 || (v.given(path+".count") && w.Count == 0):
		return v.errf(path+".count", "must be at least 1, got %d", w.Count)
	}
	if err := v.launcherBlock(w, path); err != nil { // launcher.go
		return err
	}
	if g := w.PodGroup; g != nil {
		size, of := max(w.Parallelism, 1), "the job's parallelism"
		if w.Kind == "MPIJob" {
			size, of = size+1, "the job's pods (its workers and the launcher)"
		}
		switch {
		case g.MinMember < 0 || g.MinMember > size:
			return v.errf(path+".podGroup.minMember", "must be between 1 and %s (%d), got %d", of, size, g.MinMember)
		case g.MinResources != nil && (g.MinResources.CPU < 0 || g.MinResources.Memory < 0):
			return v.errf(path+".podGroup.minResources", "must not be negative")
		}
		if err := v.duration(path+".podGroup.scheduleTimeoutSeconds", g.ScheduleTimeoutSeconds); err != nil {
			return err
		}
	}
	isFlux := w.Kind == "FluxJob" || w.Flux != nil || w.Batch != nil
	if isFlux {
		if err := v.fluxWorkload(w, path); err != nil {
			return err
		}
	} else if w.Kind == "Pod" {
		if w.Parallelism > 1 || w.Completions > 1 {
			return v.errf(path+".parallelism", "a Pod workload runs one pod per job; use kind Job or IndexedJob for more")
		}
	} else {
		if w.Parallelism < 0 || (v.given(path+".parallelism") && w.Parallelism == 0) {
			return v.errf(path+".parallelism", "must be at least 1, got %d", w.Parallelism)
		}
		if w.Completions < 0 || (v.given(path+".completions") && w.Completions == 0) {
			return v.errf(path+".completions", "must be at least 1, got %d", w.Completions)
		}
	}
	a := &w.Arrival
	switch a.Pattern {
	case "", "once":
	case "interval":
		if a.Interval <= 0 {
			return v.errf(path+".arrival.interval", "must be greater than 0 for pattern interval")
		}
	case "poisson":
		if a.Rate <= 0 {
			return v.errf(path+".arrival.rate", "must be greater than 0 for pattern poisson (jobs per second)")
		}
	default:
		return v.errf(path+".arrival.pattern", "unknown pattern %s (valid: once, interval, poisson)", quote(a.Pattern))
	}
	if err := v.duration(path+".arrival.at", a.At); err != nil {
		return err
	}
	// The last job must arrive within MaxDuration (every job is
	// submitted once per runtime; a count of 0 is 1).
	jobs := float64(max(w.Count, 1)) * float64(max(len(w.Runtimes), 1))
	switch a.Pattern {
	case "interval":
		if last := a.At + a.Interval*(jobs-1); last > MaxDuration {
			return v.errf(path+".arrival.interval", "the last of %g jobs would arrive at %s s, later than the longest duration a scenario may give (%s)", jobs, secs(last), maxDurationText)
		}
	case "poisson":
		if last := a.At + jobs/a.Rate; last > MaxDuration {
			return v.errf(path+".arrival.rate", "the last of %g jobs would arrive at about %s s, later than the longest duration a scenario may give (%s)", jobs, secs(last), maxDurationText)
		}
	}
	if isFlux {
		return nil // no pod: the job shells run on bare metal
	}
	if w.Pod.Priority < math.MinInt32 || w.Pod.Priority > math.MaxInt32 {
		return v.errf(path+".pod.priority", "must be a 32-bit integer (as in Kubernetes), got %d", w.Pod.Priority)
	}
	if w.RunTime == nil && w.App == nil {
		return v.errf(path+".runTime", "required (seconds, or a distribution such as {dist: lognormal, median: 60, sigma: 0.2}), or an app model")
	}
	return v.pod(&w.Pod, path+".pod")
}

func (v *validator) pod(p *PodSpec, path string) error {
	if len(p.Containers) == 0 {
		return v.errf(path+".containers", "at least one container is required")
	}
	check := func(cs []ContainerSpec, cpath string, init bool) error {
		for i := range cs {
			c := &cs[i]
			pp := fmt.Sprintf("%s[%d]", cpath, i)
			if c.Image == "" {
				return v.errf(pp+".image", "required")
			}
			if c.ImageSize < 0 {
				return v.errf(pp+".imageSize", "must not be negative")
			}
			if c.PullPolicy != "" && !slices.Contains(pullPolicies, c.PullPolicy) {
				return v.errf(pp+".pullPolicy", "unknown pull policy %s (valid: %s)", quote(c.PullPolicy), strings.Join(pullPolicies, ", "))
			}
			if c.GPUs < 0 || c.GPUs > MaxQuantity {
				return v.errf(pp+".gpus", "must be between 0 and %d, got %d", int64(MaxQuantity), c.GPUs)
			}
			if v.bandwidth > 0 {
				if t := float64(c.ImageSize) / v.bandwidth; t > MaxDuration {
					return v.errf(pp+".imageSize", "pulling it at the slowest configured bandwidth (%g bytes/s) takes %s s, longer than the longest duration a scenario may give (%s)", v.bandwidth, secs(t), maxDurationText)
				}
			}
			if c.Duration != nil && !init {
				return v.errf(pp+".duration", "only init containers have a duration; app containers run for the workload's runTime")
			}
		}
		return nil
	}
	if err := check(p.Containers, path+".containers", false); err != nil {
		return err
	}
	if err := check(p.InitContainers, path+".initContainers", true); err != nil {
		return err
	}
	if err := v.podTotals(p, path); err != nil {
		return err
	}
	for i, t := range p.Tolerations {
		tp := fmt.Sprintf("%s.tolerations[%d]", path, i)
		if t.Operator != "" && t.Operator != "Equal" && t.Operator != "Exists" {
			return v.errf(tp+".operator", "unknown operator %s (valid: Equal, Exists)", quote(t.Operator))
		}
		if t.Operator == "Exists" && t.Value != "" {
			return v.errf(tp+".value", "must be empty when operator is Exists")
		}
		if t.Effect != "" && !slices.Contains(taintEffects, t.Effect) {
			return v.errf(tp+".effect", "unknown effect %s (valid: %s)", quote(t.Effect), strings.Join(taintEffects, ", "))
		}
	}
	if p.Affinity != nil {
		for i, term := range p.Affinity.Required {
			if err := v.expressions(term.MatchExpressions, fmt.Sprintf("%s.affinity.required[%d].matchExpressions", path, i)); err != nil {
				return err
			}
		}
		for i, term := range p.Affinity.Preferred {
			tp := fmt.Sprintf("%s.affinity.preferred[%d]", path, i)
			if term.Weight < 1 || term.Weight > 100 {
				return v.errf(tp+".weight", "must be between 1 and 100, got %d", term.Weight)
			}
			if err := v.expressions(term.MatchExpressions, tp+".matchExpressions"); err != nil {
				return err
			}
		}
	}
	return nil
}

var operators = []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}

func (v *validator) expressions(es []MatchExpression, path string) error {
	for i, e := range es {
		ep := fmt.Sprintf("%s[%d]", path, i)
		if e.Key == "" {
			return v.errf(ep+".key", "required")
		}
		switch e.Operator {
		case "In", "NotIn":
			if len(e.Values) == 0 {
				return v.errf(ep+".values", "operator %s needs at least one value", e.Operator)
			}
		case "Exists", "DoesNotExist":
			if len(e.Values) != 0 {
				return v.errf(ep+".values", "operator %s takes no values", e.Operator)
			}
		case "Gt", "Lt":
			if len(e.Values) != 1 {
				return v.errf(ep+".values", "operator %s takes exactly one integer value", e.Operator)
			}
			if _, err := strconv.ParseInt(e.Values[0], 10, 64); err != nil {
				return v.errf(ep+".values[0]", "operator %s needs an integer, got %s", e.Operator, quote(e.Values[0]))
			}
		default:
			return v.errf(ep+".operator", "unknown operator %s (valid: %s)", quote(e.Operator), strings.Join(operators, ", "))
		}
	}
	return nil
}

// podTotals checks that the pod's effective request (the sum of its
// containers, or its largest init container, plus the overhead) stays
// within MaxQuantity, so nothing downstream overflows adding it up.
func (v *validator) podTotals(p *PodSpec, path string) error {
	var cpu, mem, gpu int64
	for _, c := range p.Containers {
		cpu, mem, gpu = satAdd(cpu, int64(c.CPU)), satAdd(mem, int64(c.Memory)), satAdd(gpu, c.GPUs)
	}
	for _, c := range p.InitContainers {
		cpu, mem, gpu = max(cpu, int64(c.CPU)), max(mem, int64(c.Memory)), max(gpu, c.GPUs)
	}
	if p.Overhead != nil {
		cpu, mem = satAdd(cpu, int64(p.Overhead.CPU)), satAdd(mem, int64(p.Overhead.Memory))
	}
	switch {
	case cpu > MaxQuantity:
		return v.errf(path+".containers", "the pod's cpu requests add up to more than %d cpus", int64(MaxQuantity/1000))
	case mem > MaxQuantity:
		return v.errf(path+".containers", "the pod's memory requests add up to more than 8Pi bytes")
	case gpu > MaxQuantity:
		return v.errf(path+".containers", "the pod's gpu requests add up to more than %d", int64(MaxQuantity))
	}
	return nil
}
