package kube

import (
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
)

// The diagnosis of a failed cycle (upstream framework.Diagnosis: the
// status of every node and the plugins that rejected the pod). Upstream
// builds the FailedScheduling message once from counts of reasons; here
// each node's verdict is a small integer code and the counts are kept per
// code, so a diagnosis hashes no strings.
//
// A failed template's diagnosis is also remembered (failRecord): the
// verdict of every filter on a node depends only on the template (its
// requests, tolerations and node affinity) and on the node, and every
// change of a node goes through the node cache, which logs it. The next
// pod of that template then re-filters only the nodes changed since, and
// if none passes, fails with the same message without scanning the
// cluster. The cycle's simulated cost is unchanged (all nodes are still
// evaluated, as upstream's failed cycle does).

// nodeCode is the verdict of the filters on a node: codePass, or the
// plugin that rejected it with its detail.
type nodeCode uint32

const (
	codePass          nodeCode = 0
	codeUnschedulable nodeCode = 1
	codeAffinity      nodeCode = 2
	codeFit           nodeCode = 16 // | the insufficient resources (1–15)
	codeTaint         nodeCode = 32 // + the untolerated taint's reason id
)

// nodeVerdict runs the filters on the engine's node i and returns their
// code (the node cache interns the taint reasons).
func (s *Scheduler) nodeVerdict(st *cycleState, n *engine.Node) nodeCode {
	p, detail := filter(st, n)
	switch p {
	case 0:
		return codePass
	case pluginNodeUnschedulable:
		return codeUnschedulable
	case pluginNodeAffinity:
		return codeAffinity
	case pluginNodeResourcesFit:
		return codeFit | nodeCode(detail)
	}
	return codeTaint + nodeCode(s.nodes.taintReason(n, detail))
}

// diagCounts counts the verdicts of a diagnosis by reason.
type diagCounts struct {
	passed        int
	unschedulable int
	affinity      int
	fitNodes      int    // nodes NodeResourcesFit rejected
	fit           [4]int // nodes short of each resource (insufficientReasons order)
	taintNodes    int
	taint         []int // nodes per untolerated-taint reason id
}

func (d *diagCounts) reset() {
	taint := d.taint
	clear(taint)
	*d = diagCounts{taint: taint[:0]}
}

// add counts (sign +1) or uncounts (sign −1) a verdict.
func (d *diagCounts) add(c nodeCode, sign int) {
	switch {
	case c == codePass:
		d.passed += sign
	case c == codeUnschedulable:
		d.unschedulable += sign
	case c == codeAffinity:
		d.affinity += sign
	case c >= codeTaint:
		id := int(c - codeTaint)
		if id >= len(d.taint) {
			d.taint = append(d.taint, make([]int, id+1-len(d.taint))...)
		}
		d.taint[id] += sign
		d.taintNodes += sign
	default: // codeFit | bits
		d.fitNodes += sign
		bits := insufficient(c - codeFit)
		for i, r := range insufficientReasons {
			if bits&r.bit != 0 {
				d.fit[i] += sign
			}
		}
	}
}

// rejectors are the plugins that rejected some node (upstream
// Diagnosis.UnschedulablePlugins).
func (d *diagCounts) rejectors() pluginSet {
	var r pluginSet
	if d.unschedulable > 0 {
		r |= pluginNodeUnschedulable
	}
	if d.taintNodes > 0 {
		r |= pluginTaintToleration
	}
	if d.affinity > 0 {
		r |= pluginNodeAffinity
	}
	if d.fitNodes > 0 {
		r |= pluginNodeResourcesFit
	}
	return r
}

// message is upstream FitError's text for a pod no node of n accepted:
// "0/N nodes are available: " then the "count reason" entries sorted as
// strings.
func (d *diagCounts) message(n int, taintReasons []string) string {
	if n == 0 {
		return "no nodes available to schedule pods"
	}
	reasons := make([]string, 0, 8)
	add := func(count int, reason string) {
		if count > 0 {
			reasons = append(reasons, strconv.Itoa(count)+" "+reason)
		}
	}
	add(d.unschedulable, reasonNodeUnschedulable)
	add(d.affinity, reasonNodeAffinity)
	for i, r := range insufficientReasons {
		add(d.fit[i], r.reason)
	}
	for id, count := range d.taint {
		add(count, taintReasons[id])
	}
	slices.Sort(reasons)
	return "0/" + strconv.Itoa(n) + " nodes are available: " + strings.Join(reasons, ", ") + "."
}

// failRecord is a diagnosis: every node's verdict for the pods of one
// template and the counts, current up to position seq of the node cache's
// change log.
type failRecord struct {
	ti      *templateInfo // the template, nil for a one-off diagnosis
	codes   []nodeCode    // by node index
	counts  diagCounts
	seq     uint64 // change-log position the codes reflect
	epoch   uint64 // node-cache epoch the codes were computed in
	msg     string // the message, "" until built
	lastUse uint64
}

// diagnoseAll computes every node's verdict from the engine's nodes.
func (s *Scheduler) diagnoseAll(r *failRecord, st *cycleState, nodes []*engine.Node) {
	if cap(r.codes) < len(nodes) {
		r.codes = make([]nodeCode, len(nodes))
	}
	r.codes = r.codes[:len(nodes)]
	r.counts.reset()
	for i, n := range nodes {
		c := s.nodeVerdict(st, n)
		r.codes[i] = c
		r.counts.add(c, 1)
	}
	r.msg = ""
	r.seq, r.epoch = s.nodes.logSeq(), s.nodes.epoch
}

// refresh brings a template's record up to date: the nodes changed since
// it was last brought up to date are filtered again, or all of them if
// the record is older than the change log.
func (s *Scheduler) refresh(r *failRecord, st *cycleState, nodes []*engine.Node) {
	changed, ok := s.nodes.changesSince(r.seq, r.epoch)
	if !ok || len(r.codes) != len(nodes) || len(changed) > len(nodes) {
		s.diagnoseAll(r, st, nodes)
		return
	}
	for _, i := range changed {
		c := s.nodeVerdict(st, nodes[i])
		if old := r.codes[i]; c != old {
			r.counts.add(old, -1)
			r.counts.add(c, 1)
			r.codes[i] = c
			r.msg = ""
		}
	}
	r.seq = s.nodes.logSeq()
}

func (s *Scheduler) message(r *failRecord, n int) string {
	if r.msg == "" {
		r.msg = r.counts.message(n, s.nodes.taintReasons)
	}
	return r.msg
}

// failCache holds the records of recently failed templates, at most max,
// least recently used first out. Each holds a verdict per node, so max
// shrinks as the cluster grows (failCacheCodes codes in all).
type failCache struct {
	off     bool // tests: never answer from a record
	recs    []*failRecord
	max     int
	clock   uint64
	scratch failRecord // for pods whose requests are not their template's
}

const failCacheCodes = 1 << 22

func failCacheSize(nodes int) int {
	return min(max(failCacheCodes/max(nodes, 1), 4), 64)
}

// lookup returns the template's record, or nil.
func (fc *failCache) lookup(ti *templateInfo) *failRecord {
	if r := ti.fail; r != nil {
		fc.clock++
		r.lastUse = fc.clock
		return r
	}
	return nil
}

// take returns a record for the template: its own, a new one, or the
// least recently used one of another template.
func (fc *failCache) take(ti *templateInfo, nodes int) *failRecord {
	if r := fc.lookup(ti); r != nil {
		return r
	}
	fc.max = failCacheSize(nodes)
	var r *failRecord
	if len(fc.recs) < fc.max {
		r = &failRecord{}
		fc.recs = append(fc.recs, r)
	} else {
		r = fc.recs[0]
		for _, o := range fc.recs[1:] {
			if o.lastUse < r.lastUse {
				r = o
			}
		}
		r.ti.fail = nil
	}
	r.ti = ti
	ti.fail = r
	fc.clock++
	r.lastUse = fc.clock
	return r
}
