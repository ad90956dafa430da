package engine

// NodeAgent is the node side of a pod's life, from its completed bind to
// its containers running: what the kubelet does on a Kubernetes node
// (pod worker syncs, the sandbox, image pulls through the registry,
// init containers, container starts; engine/kubelet.go), and what a
// bare-metal job shell would do with none of these. The core calls an
// agent at two points — Bound, when a pod's bind has completed, and
// Wake, for the agent's own calendar events — and the agent hands the
// pod back to the core once its containers run (Engine.containersStarted:
// readiness, the finish or the job's gang start). The core asks Busy to
// know whether work in flight (transfers, init containers) will make
// progress without any new event, so that the run is not stalled.
//
// Agents live in the engine package, beside the calendar they schedule
// on: each has a slot (its index in Engine.agents) that its events carry.
// The kubelet is agent 0, the one every pod uses today.
type NodeAgent interface {
	// Name names the agent in messages.
	Name() string
	// Bound starts the node side of pod p, whose bind completed at now.
	Bound(p *Pod, now float64)
	// Wake handles one of the agent's events (scheduled with
	// Engine.agentAfter): its own kind, an id and a tag.
	Wake(kind uint8, id int32, tag int64, now float64)
	// Busy reports work in flight that progresses on its own.
	Busy() bool
}

// agentAfter schedules an event of agent slot for the agent at now+delay.
func (e *Engine) agentAfter(slot uint8, at float64, kind uint8, id int32, tag int64) {
	e.push(item{t: at, kind: evAgent, agent: slot, sub: kind, id: id, tag: tag})
}

// agentOf is the agent that runs pod p.
func (e *Engine) agentOf(p *Pod) NodeAgent {
	if p.Job.Flux != nil {
		return e.agents[shellSlot]
	}
	return e.agents[0]
}

// agentsBusy reports whether some agent has work in flight.
func (e *Engine) agentsBusy() bool {
	for _, a := range e.agents {
		if a.Busy() {
			return true
		}
	}
	return false
}

// containersStarted is where an agent hands a pod back to the core: its
// app containers run. The pod is Running; it becomes Ready after its
// readiness delay, and it finishes after its run time — or, in a job
// that runs as one program, when the program ends (gangUp).
func (e *Engine) containersStarted(p *Pod, now float64) {
	if e.containersUp(p, now) {
		e.push(item{t: now + p.RunTime, kind: evFinish, id: int32(p.ID)})
	}
}

// containersUp is containersStarted but for the finish after the pod's
// run time, which it leaves to the caller: it reports whether one is due
// (false when the job was killed meanwhile or runs as one program).
func (e *Engine) containersUp(p *Pod, now float64) (finish bool) {
	p.ContainersStarted = now
	p.Phase = PodRunning
	p.started = true
	e.running++
	e.progress(now)
	e.record(now, RecStarted, p, p.Node, "")
	if f := p.Job.Flux; f != nil {
		e.fluxStarted(p.Job, now)
		if f.Killed() {
			// The job was killed while this shell was starting.
			p.RunTime = 0
			e.push(item{t: now, kind: evFinish, id: int32(p.ID)})
			return false
		}
	}
	// Ready once the readiness delay has passed, if the containers are
	// still running then.
	ready := now + Sample(p.Template.ReadinessDelay, e.rStartup)
	if p.Job.RunModel != nil {
		// The finish time is not known yet; evReady is dropped if the
		// pod has finished by then.
		e.push(item{t: ready, kind: evReady, id: int32(p.ID)})
		e.gangUp(p, now)
		return false
	}
	switch {
	case ready > now+p.RunTime:
	case ready == now && p.Job.Flux != nil && now < p.Job.Flux.Expiration:
		// A shell has no readiness probe: it is ready as it starts.
		// (The event would come later in this instant, before anything
		// could stop it: its time limit is later, and a cancel is a
		// decision, applied after the instant's events.)
		p.Ready = now
	default:
		e.push(item{t: ready, kind: evReady, id: int32(p.ID)})
	}
	return true
}
