package fluence

import (
	"fmt"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/kube"
)

// otherTagBase offsets the timer tags of the second scheduler (the
// default kube-scheduler beside Fluence), so that each scheduler gets
// its own timers back.
const otherTagBase int64 = 1 << 40

// Policy is kube-scheduler running the Fluence profile, and optionally
// the default kube-scheduler beside it for the pods of KubeWorkloads
// (two schedulers sharing one cluster, each with its own queue and node
// cache). It implements engine.Policy and engine.Pending.
type Policy struct {
	pl    *Plugin
	fl    *kube.Scheduler
	other *kube.Scheduler
	mine  map[string]bool // workloads the default scheduler places
	// kubeLaunchers: the default scheduler places operators' launcher pods.
	kubeLaunchers bool

	evF, evO       []engine.Event
	dirtyF, dirtyO []*engine.Node // nodes the other scheduler changed
}

var (
	_ engine.Policy  = (*Policy)(nil)
	_ engine.Pending = (*Policy)(nil)
)

// New returns kube-scheduler (configured by kcfg) with the Fluence
// plugin configured by cfg.
func New(cfg Config, kcfg kube.Config, streams *engine.Streams) (*Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fluence: %w", err)
	}
	cfg.KubeWorkloads = append([]string(nil), cfg.KubeWorkloads...)
	fl, err := kube.New(kcfg, streams)
	if err != nil {
		return nil, fmt.Errorf("fluence: %w", err)
	}
	p := &Policy{pl: newPlugin(cfg)}
	p.fl = fl.WithPlugins(p.pl)
	p.kubeLaunchers = cfg.Launchers == LaunchersKube
	if len(cfg.KubeWorkloads) > 0 || p.kubeLaunchers {
		if p.other, err = kube.New(kcfg, streams); err != nil {
			return nil, fmt.Errorf("fluence: %w", err)
		}
		p.mine = map[string]bool{}
		for _, w := range cfg.KubeWorkloads {
			p.mine[w] = true
		}
	}
	return p, nil
}

// Name implements engine.Policy.
func (p *Policy) Name() string { return "fluence" }

// Plugin returns the Fluence plugin.
func (p *Policy) Plugin() *Plugin { return p.pl }

// Scheduler returns the kube-scheduler running Fluence.
func (p *Policy) Scheduler() *kube.Scheduler { return p.fl }

// PendingPods implements engine.Pending.
func (p *Policy) PendingPods() int {
	n := p.fl.PendingPods()
	if p.other != nil {
		n += p.other.PendingPods()
	}
	return n
}

func (p *Policy) foreign(j *engine.Job) bool { return p.mine[j.Workload] }

// foreignPod reports whether the default scheduler places pod q.
func (p *Policy) foreignPod(q *engine.Pod) bool {
	return p.foreign(q.Job) || (p.kubeLaunchers && q.Launcher)
}

// Decide implements engine.Policy. With a second scheduler, each gets
// the events of its own pods and jobs and its own timers; both see
// every pod deletion (their informers do), and each is told, as a node
// change, of the nodes the other assumed or bound pods on.
func (p *Policy) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	p.pl.startOnce(c) // the sidecar starts with the scheduler
	if p.other == nil {
		return p.fl.Decide(now, events, c, out)
	}
	evF, evO := p.evF[:0], p.evO[:0]
	for _, n := range p.dirtyF {
		evF = append(evF, engine.Event{Kind: engine.NodeChanged, Node: n})
	}
	for _, n := range p.dirtyO {
		evO = append(evO, engine.Event{Kind: engine.NodeChanged, Node: n})
	}
	p.dirtyF, p.dirtyO = p.dirtyF[:0], p.dirtyO[:0]
	for _, ev := range events {
		switch ev.Kind {
		case engine.PodCreated, engine.PodBound:
			if p.foreignPod(ev.Pod) {
				evO = append(evO, ev)
			} else {
				evF = append(evF, ev)
			}
		case engine.JobArrived:
			if p.foreign(ev.Job) {
				evO = append(evO, ev)
			} else {
				evF = append(evF, ev)
			}
		case engine.TimerFired:
			if ev.Tag >= otherTagBase {
				ev.Tag -= otherTagBase
				evO = append(evO, ev)
			} else {
				evF = append(evF, ev)
			}
		default: // PodDeleted, NodeChanged
			evF = append(evF, ev)
			evO = append(evO, ev)
		}
	}
	p.evF, p.evO = evF, evO
	k := len(out)
	if len(evF) > 0 {
		out = p.fl.Decide(now, evF, c, out)
	}
	for _, d := range out[k:] {
		p.dirtyO = appendNodes(p.dirtyO, &d)
	}
	k = len(out)
	if len(evO) > 0 {
		out = p.other.Decide(now, evO, c, out)
	}
	for i := k; i < len(out); i++ {
		d := &out[i]
		if d.Kind == engine.SetTimer {
			d.Tag += otherTagBase
		}
		p.dirtyF = appendNodes(p.dirtyF, d)
	}
	clear(evF)
	clear(evO)
	return out
}

// appendNodes adds the nodes a decision places pods on.
func appendNodes(ns []*engine.Node, d *engine.Decision) []*engine.Node {
	switch d.Kind {
	case engine.Bind, engine.Assume:
		ns = append(ns, d.Node)
	case engine.Unreserve:
		if d.Pod.Node != nil {
			ns = append(ns, d.Pod.Node)
		}
	case engine.Allocate:
		for _, s := range d.Slots {
			ns = append(ns, s.Node)
		}
	}
	return ns
}
