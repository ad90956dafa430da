package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/convergesim/converge/internal/fairshare"
)

// ContendedRunModel is a RunModel whose run slows down when other
// jobs share its nodes: a node's memory bandwidth and its NIC, and a
// leaf switch's uplink, are shared by every rank on them, whatever job
// it belongs to. Besides the run time alone (RunTime), the model says
// what the run asks of each shared resource at full speed; the engine
// then runs the job by progress, not to a fixed end time.
//
// The progress model (fluid, as SimGrid's): a job that runs at rate x
// (1 = as fast as alone) uses x·d of a resource it asks d of at full
// speed. The rates of all running jobs are max-min fair (package
// fairshare: every job's rate rises together until a resource is
// full, then the jobs on it keep their rate; no job runs faster than
// alone). A job keeps the fraction of its run still to do; whenever a
// job starts or ends on a resource connected to it, its rate is
// recomputed and, if it changed, its finish is moved to now +
// left·alone/x. A job's time alone already includes the sharing among
// its own ranks (the model prices its own ranks per node); the demand
// is the average over that run.
//
// A job whose model does not implement ContendedRunModel, or that
// asks nothing of any shared resource, keeps the fixed pricing: the
// run time at its start.
type ContendedRunModel interface {
	RunModel
	// Demand is what the run on pl asks of the shared resources of
	// each node of pl (same order) when it runs as fast as alone, in
	// alone.Seconds.
	Demand(pl []NodeShare, alone RunResult) ([]NodeDemand, error)
}

// NodeDemand is what a run asks of the shared resources of one node at
// full speed (bytes per second, averaged over the run), with the
// resources' capacities. A zero demand leaves the resource out. When
// jobs declare different capacities for one resource, the smallest
// declared so far is used. A demand above the capacity counts as the
// capacity: a job alone runs as fast as alone (its run time alone
// already prices its own ranks' sharing).
type NodeDemand struct {
	// Memory is the bytes per second the job's ranks on the node stream
	// through its memory; MemoryCapacity the node's memory bandwidth.
	Memory, MemoryCapacity float64
	// Network is the bytes per second the job's ranks on the node send
	// to other nodes (and receive: the collectives priced are
	// symmetric); NetworkCapacity the node's link rate, each way.
	Network, NetworkCapacity float64
	// Leaf is the node's leaf switch on a two-level tree (-1: one
	// switch, no uplink); Uplink the part of Network that leaves the
	// leaf, UplinkCapacity the leaf's uplink rate, each way.
	Leaf                   int
	Uplink, UplinkCapacity float64
	// CPU is the cores the job's ranks on the node keep busy (MPI ranks
	// poll: every rank counts), CPUCapacity the machine's cores. Jobs
	// of two schedulers on one machine (Flux's and Kubernetes' inside
	// Usernetes, both using every core) share it.
	CPU, CPUCapacity float64
}

// contention runs the jobs of ContendedRunModels by progress.
type contention struct {
	sys  fairshare.System
	kind []resKind // by link
	at   []int32   // by link: node index, or leaf
	mem  []int32   // by node index: its memory link, -1 none yet
	nic  []int32   // by node index
	cpu  []int32   // by node index
	up   map[int]int32
	runs map[int]*contendedRun // by job ID, while its pods run
	slot []*contendedRun       // by flow slot
	// stale counts finish events in the calendar that a later
	// generation replaced; the calendar is compacted when they
	// outnumber the rest.
	stale int
	moved int // finishes scheduled or moved (for benchmarks)

	// scratch
	pos   map[int32]int // link → its place in links
	links []int32
	coef  []float64
	batch []*contendedRun
}

type resKind uint8

const (
	resMemory resKind = iota
	resNetwork
	resUplink
	resCPU
)

// contendedRun is one running job of a ContendedRunModel.
type contendedRun struct {
	job    *Job
	slot   int32
	links  []int32
	alone  float64 // run time alone, s
	done   float64 // fraction of the run done at upd
	upd    float64
	rate   float64 // progress per second relative to alone (1 = alone)
	gen    int64   // generation of the scheduled finish events
	finish float64
	ended  bool
	slowed bool // ran below full speed at some point
	events int  // finish events of the current generation in the calendar
}

func (e *Engine) contentionState() *contention {
	if e.contention == nil {
		n := len(e.cluster.Nodes)
		c := &contention{mem: make([]int32, n), nic: make([]int32, n), cpu: make([]int32, n), up: map[int]int32{}, runs: map[int]*contendedRun{}, pos: map[int32]int{}}
		c.sys.OrderTies = true
		for i := range n {
			c.mem[i], c.nic[i], c.cpu[i] = -1, -1, -1
		}
		e.contention = c
	}
	return e.contention
}

// link returns the link of a resource, made on first use, with the
// smallest capacity declared for it.
func (c *contention) link(l *int32, k resKind, at int, capacity float64) int32 {
	if *l < 0 {
		*l = c.sys.AddLink(capacity)
		c.kind = append(c.kind, k)
		c.at = append(c.at, int32(at))
	} else if capacity < c.sys.Capacity(*l) {
		c.sys.SetCapacity(*l, capacity)
	}
	return *l
}

// contend starts job j by progress if its model is contended and it
// asks anything of a shared resource; it reports whether it did.
func (e *Engine) contend(j *Job, pl []NodeShare, alone RunResult, now float64) (bool, error) {
	cm, ok := j.RunModel.(ContendedRunModel)
	if !ok || alone.Seconds <= 0 {
		return false, nil
	}
	d, err := cm.Demand(pl, alone)
	if err != nil {
		return false, fmt.Errorf("engine: job %s: run model demand: %w", j.Name, err)
	}
	if len(d) != len(pl) {
		return false, fmt.Errorf("engine: invariant violated: job %s: run model gave demands for %d nodes, the placement has %d", j.Name, len(d), len(pl))
	}
	c := e.contentionState()
	links, coef := c.links[:0], c.coef[:0]
	clear(c.pos)
	add := func(l int32, v float64) {
		if i, ok := c.pos[l]; ok { // a leaf uplink the job's nodes share
			coef[i] += v
			return
		}
		c.pos[l] = len(links)
		links, coef = append(links, l), append(coef, v)
	}
	for i, nd := range d {
		for _, v := range []struct {
			name      string
			demand, c float64
		}{{"memory", nd.Memory, nd.MemoryCapacity}, {"network", nd.Network, nd.NetworkCapacity}, {"uplink", nd.Uplink, nd.UplinkCapacity}, {"cpu", nd.CPU, nd.CPUCapacity}} {
			if !(v.demand >= 0) || math.IsInf(v.demand, 0) || (v.demand > 0 && (!(v.c > 0) || math.IsInf(v.c, 0))) {
				return false, fmt.Errorf("engine: invariant violated: job %s: node %s: %s demand %g B/s of capacity %g B/s", j.Name, pl[i].Node.Name, v.name, v.demand, v.c)
			}
		}
		n := pl[i].Node.HostIndex() // a nested cluster's node shares its machine's
		if nd.CPU > 0 {
			add(c.link(&c.cpu[n], resCPU, n, nd.CPUCapacity), nd.CPU)
		}
		if nd.Memory > 0 {
			add(c.link(&c.mem[n], resMemory, n, nd.MemoryCapacity), nd.Memory)
		}
		if nd.Network > 0 {
			add(c.link(&c.nic[n], resNetwork, n, nd.NetworkCapacity), nd.Network)
		}
		if nd.Uplink > 0 && nd.Leaf >= 0 {
			l, ok := c.up[nd.Leaf]
			if !ok {
				l = -1
			}
			l = c.link(&l, resUplink, nd.Leaf, nd.UplinkCapacity)
			c.up[nd.Leaf] = l
			add(l, nd.Uplink)
		}
	}
	for k, l := range links {
		coef[k] = min(coef[k], c.sys.Capacity(l)) // alone, a job runs at full speed
	}
	c.links, c.coef = links, coef
	if len(links) == 0 {
		return false, nil
	}
	r := &contendedRun{job: j, alone: alone.Seconds, upd: now, links: slices.Clone(links)}
	r.slot = c.sys.Add(links, coef, 1)
	for int(r.slot) >= len(c.slot) {
		c.slot = append(c.slot, nil)
	}
	c.slot[r.slot] = r
	c.runs[j.ID] = r
	e.reprice(r.links, r.slot, now)
	return true, nil
}

// reprice re-shares the resources connected to links (and run slot
// extra) and moves the finish of every job whose rate changed, in job
// order.
func (e *Engine) reprice(links []int32, extra int32, now float64) {
	c := e.contention
	flows, cl := c.sys.Component(links, extra)
	batch := c.batch[:0]
	for _, s := range flows {
		r := c.slot[s]
		if r.rate > 0 {
			r.done += (now - r.upd) * r.rate / r.alone
		}
		r.upd = now
		batch = append(batch, r)
	}
	c.sys.Solve(flows, cl)
	slices.SortFunc(batch, func(a, b *contendedRun) int { return a.job.ID - b.job.ID })
	for _, r := range batch {
		x := c.sys.Rate(r.slot)
		if x == r.rate || math.Abs(x-r.rate) <= 1e-12*x {
			continue // unchanged (but for rounding in a re-share of its neighbours)
		}
		r.rate = x
		r.gen++
		c.moved++
		r.slowed = r.slowed || x < 1
		left := max(0, 1-r.done)
		r.finish = now + left*r.alone/x
		if left == 1 && x == 1 {
			r.finish = now + r.alone // exactly the fixed pricing
		}
		j := r.job
		// The first finish is one event per pod, as with the fixed
		// pricing; a moved finish is one event for the job (its first
		// running pod's), and the earlier ones go stale.
		first := r.gen == 1
		c.stale += r.events
		r.events = 0
		for _, q := range j.Pods {
			if q.Phase != PodRunning {
				continue
			}
			q.RunTime = r.finish - j.Started
			if first || r.events == 0 {
				e.push(item{t: r.finish, kind: evFinish, id: int32(q.ID), tag: r.gen})
				r.events++
			}
		}
		if e.recording() && (r.slowed || left < 1) {
			e.emit(Record{T: now, Kind: RecContention, Job: j.ID, Pod: -1, Node: -1,
				Msg: fmt.Sprintf("progress %.4g of full speed (%s); %.4g%% of the run left, finishing at %.6g s", x, e.bottleneck(r), 100*left, r.finish)}, nil, j, nil)
		}
	}
	clear(batch)
	c.batch = batch[:0]
	e.compact()
}

// bottleneck names the full resource that holds run r back.
func (e *Engine) bottleneck(r *contendedRun) string {
	c := e.contention
	if c.sys.Rate(r.slot) >= 1 {
		return "alone-speed"
	}
	for _, l := range r.links {
		capacity := c.sys.Capacity(l)
		if c.sys.Load(l) < capacity*(1-1e-9) {
			continue
		}
		jobs := len(c.sys.FlowsOn(l))
		switch c.kind[l] {
		case resMemory:
			return fmt.Sprintf("memory bandwidth of %s, %.4g GB/s shared by %d jobs", e.cluster.Nodes[c.at[l]].Name, capacity/1e9, jobs)
		case resNetwork:
			return fmt.Sprintf("network link of %s, %.4g GB/s shared by %d jobs", e.cluster.Nodes[c.at[l]].Name, capacity/1e9, jobs)
		default:
			return fmt.Sprintf("uplink of leaf %d, %.4g GB/s shared by %d jobs", c.at[l], capacity/1e9, jobs)
		}
	}
	return "no full resource"
}

// contendedFinish handles a finish event of generation gen of pod p's
// job: nothing if the job's rate changed since (a later finish is
// scheduled), pod p's finish for a first generation (one event a pod),
// every running pod's, in pod order, for a later one (one event for the
// job).
func (e *Engine) contendedFinish(p *Pod, gen int64, now float64) {
	c := e.contention
	var r *contendedRun
	if c != nil {
		r = c.runs[p.Job.ID]
	}
	if r == nil || r.gen != gen || p.Phase != PodRunning {
		if c != nil && c.stale > 0 {
			c.stale--
		}
		return
	}
	if gen == 1 {
		e.finishPod(p, now)
		return
	}
	for _, q := range p.Job.Pods {
		if q.Phase == PodRunning && e.err == nil {
			e.finishPod(q, now)
		}
	}
}

// compact drops stale finish events from the calendar once they
// outnumber the live ones (the order of the rest is kept: it is by
// time and insertion sequence).
func (e *Engine) compact() {
	c := e.contention
	if c.stale < 1<<14 || 2*c.stale < len(e.cal.items) {
		return
	}
	kept := e.cal.items[:0]
	for _, it := range e.cal.items {
		if it.kind == evFinish && it.tag != 0 {
			r := c.runs[e.pods[it.id].Job.ID]
			if r == nil || r.gen != it.tag {
				continue
			}
		}
		kept = append(kept, it)
	}
	clear(e.cal.items[len(kept):])
	e.cal.items = kept
	for i := (len(kept) - 2) / 4; i >= 0; i-- {
		e.cal.down(i)
	}
	c.stale = 0
}

// contendedEnd is called when one of job j's pods has finished: the
// first ends the program, frees its share of the resources and
// re-prices its neighbours; the job's slowdown is recorded.
func (e *Engine) contendedEnd(j *Job, now float64) {
	c := e.contention
	r := c.runs[j.ID]
	if r == nil {
		return
	}
	if !r.ended {
		r.ended = true
		c.sys.Remove(r.slot)
		c.slot[r.slot] = nil
		ran := now - j.Started
		if r.slowed && ran > r.alone {
			j.Phases = append(slices.Clip(j.Phases), Phase{Name: "contention", Seconds: ran - r.alone})
			if e.recording() {
				e.emit(Record{T: now, Kind: RecContention, Job: j.ID, Pod: -1, Node: -1,
					Msg: fmt.Sprintf("ran %.6g s, %.4g× its %.6g s alone", ran, ran/r.alone, r.alone)}, nil, j, nil)
			}
		}
		e.reprice(r.links, -1, now)
	}
	if IsSet(j.Finished) {
		delete(c.runs, j.ID)
	}
}
