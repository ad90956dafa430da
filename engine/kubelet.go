package engine

import (
	"fmt"
	"math"
)

// The node agent (kubelet) start-up model. After the bind completes the
// pod worker syncs the pod: it creates the sandbox (RunPodSandbox + CNI),
// then for each init container and then each app container in order it
// ensures the image (EnsureImageExists) and starts the container; init
// containers run to completion before the next one. Pulls go through the
// kubelet's registry rate limiter (registryPullQPS/registryBurst, TryAccept:
// over the limit the pull fails with "pull QPS exceeded"); a failed pull puts
// the image of that pod into back-off (10 s doubling to 300 s), and the pod
// worker retries the sync after 10 s with jitter 0.5 (10–15 s). With
// serializeImagePulls one pull runs at a time per node. A real pull
// transfers the image's bytes, sharing the registry's bandwidth with every
// concurrent pull in the cluster, then pays a fixed overhead (unpack); an
// image is pulled once per node and cached.

// kubelet is the kubelet as the engine's node agent (slot 0). Its
// methods are the kubelet's; through the embedded engine they use the
// calendar (agentAfter), the recorder, the image cache and the transfer
// pool, and they hand a pod back with containersStarted.
type kubelet struct{ *Engine }

// The kubelet's own events.
const (
	kSync        uint8 = iota // id = pod: a pod worker sync
	kSandboxDone              // id = pod
	kPullDone                 // id = pod (a manifest check finished)
	kImageReady               // id = node, tag = image
	kTransfer                 // tag = transfer generation
	kContainerUp              // id = pod
	kInitDone                 // id = pod
)

func (e kubelet) Name() string { return "kubelet" }

// Bound: the watch delivers the bound pod to its pod worker.
func (e kubelet) Bound(p *Pod, now float64) {
	e.queueSync(p, now, Sample(e.cfg.Startup.SyncDelay, e.rStartup))
}

// Busy: image bytes in flight or init containers running.
func (e kubelet) Busy() bool { return e.initRunning > 0 || e.transfers.active() > 0 }

// after schedules one of the kubelet's events at time at.
func (e kubelet) after(at float64, kind uint8, id int32, tag int64) {
	e.agentAfter(0, at, kind, id, tag)
}

func (e kubelet) Wake(kind uint8, id int32, tag int64, now float64) {
	switch kind {
	case kSync:
		p := e.pods[id]
		p.syncQueued = false
		e.sync(p, now)
	case kSandboxDone:
		p := e.pods[id]
		p.sandboxUp = true
		p.syncQueued = false
		e.sandboxDone(p, now)
		e.record(now, RecSandboxReady, p, p.Node, "")
		e.sync(p, now)
	case kPullDone:
		e.pullFinished(e.pods[id], now)
	case kImageReady:
		e.imageReady(e.cluster.Nodes[id], tag, now)
	case kTransfer:
		e.transferTick(tag, now)
	case kContainerUp:
		e.containerUp(e.pods[id], now)
	case kInitDone:
		p := e.pods[id]
		e.initRunning--
		e.progress(now)
		p.step++
		e.sync(p, now)
	}
}

type kubeletState struct {
	pullBucket *TokenBucket
	backoff    map[backoffKey]backoffEntry
	// serial pulls: the queue of pods waiting, and whether one is running.
	queue   []int32
	pulling bool
	// waiters per image id: pods waiting for that image to land.
	waiters map[int32][]int32
	// tickPhase is the offset of the node's sync loop ticker.
	tickPhase float64
	// sandbox creations in progress and pods waiting for a slot.
	sandboxes    int
	sandboxQueue []int32
}

// sandboxDone frees a sandbox slot on the node and starts the next waiter.
func (e kubelet) sandboxDone(p *Pod, now float64) {
	k := &p.Node.kubelet
	k.sandboxes--
	if len(k.sandboxQueue) > 0 {
		next := k.sandboxQueue[0]
		k.sandboxQueue = k.sandboxQueue[1:]
		k.sandboxes++
		e.after(now+Sample(e.cfg.Startup.Sandbox, e.rStartup), kSandboxDone, next, 0)
	}
}

type backoffKey struct {
	pod   int32
	image int32
}

type backoffEntry struct {
	until, period float64
}

// container returns the container the pod's kubelet step points at, and
// whether it is an init container.
func (p *Pod) container() (*Container, bool) {
	t := p.Template
	if p.step < len(t.InitContainers) {
		return &t.InitContainers[p.step], true
	}
	return &t.Containers[p.step-len(t.InitContainers)], false
}

func (e kubelet) internImage(c *Container) int32 {
	if id, ok := e.imageID[c.Image]; ok {
		return id
	}
	id := int32(len(e.images))
	e.images = append(e.images, c.Image)
	e.imageSizes = append(e.imageSizes, c.ImageSize)
	e.imageID[c.Image] = id
	return id
}

func (e kubelet) queueSync(p *Pod, now, delay float64) {
	if p.syncQueued {
		return
	}
	p.syncQueued = true
	e.after(now+delay, kSync, int32(p.ID), 0)
}

// retry requeues the pod worker after a sync error.
// The pod worker requeues the pod for PodWorkerBackoff with jitter; the
// kubelet's sync loop picks requeued pods that are due on its ticker
// (SyncLoopPeriod, 1 s), whose phase differs per node.
func (e kubelet) retry(p *Pod, now float64) {
	s := &e.cfg.Startup
	due := now + s.PodWorkerBackoff*(1+s.PodWorkerJitter*e.rStartup.Float64())
	if per := s.SyncLoopPeriod; per > 0 {
		phase := p.Node.kubelet.tickPhase
		due = phase + math.Ceil((due-phase)/per)*per
	}
	e.queueSync(p, now, due-now+Sample(s.SyncDelay, e.rStartup))
}

func (e kubelet) sync(p *Pod, now float64) {
	if p.started || p.Phase != PodPending {
		return
	}
	t := p.Template
	if !p.sandboxUp {
		if len(t.InitContainers) == 0 && !IsSet(p.Initialized) {
			// With no init containers the Initialized condition is true
			// at the first status update.
			p.Initialized = now
			e.record(now, RecInitialized, p, p.Node, "")
		}
		p.syncQueued = true // the sandbox completion continues the sync
		k := &p.Node.kubelet
		if c := e.cfg.Startup.SandboxConcurrency; c > 0 && k.sandboxes >= c {
			k.sandboxQueue = append(k.sandboxQueue, int32(p.ID))
			return
		}
		k.sandboxes++
		e.after(now+Sample(e.cfg.Startup.Sandbox, e.rStartup), kSandboxDone, int32(p.ID), 0)
		return
	}
	if p.step == len(t.InitContainers) && !IsSet(p.Initialized) {
		p.Initialized = now
		e.progress(now)
		e.record(now, RecInitialized, p, p.Node, "")
	}
	if p.step >= len(t.InitContainers)+len(t.Containers) {
		return
	}
	c, _ := p.container()
	e.ensureImage(p, c, now)
}

// ensureImage decides whether the container's image must be pulled and
// either starts the container, starts or queues a pull, or fails the sync.
func (e kubelet) ensureImage(p *Pod, c *Container, now float64) {
	n := p.Node
	img := e.internImage(c)
	state := n.images[c.Image]
	need := c.PullPolicy == PullAlways || (c.PullPolicy != PullNever && state != imagePresent)
	if c.PullPolicy == PullNever && state != imagePresent {
		p.PullFailures++
		e.record(now, RecPullFailed, p, n, fmt.Sprintf("ErrImageNeverPull: %s", c.Image))
		e.retry(p, now)
		return
	}
	if !need {
		e.startContainer(p, now)
		return
	}
	k := &n.kubelet
	key := backoffKey{int32(p.ID), img}
	if b, ok := k.backoff[key]; ok && now < b.until {
		p.PullFailures++
		e.record(now, RecPullBackOff, p, n, fmt.Sprintf("Back-off pulling image %q", c.Image))
		e.retry(p, now)
		return
	}
	if !e.cfg.Startup.SerializeImagePulls || !k.pulling {
		if !k.pullBucket.TryAccept(now) {
			e.pullFailed(p, key, now, "pull QPS exceeded")
			return
		}
	}
	p.pullStart = now
	e.record(now, RecPulling, p, n, c.Image)
	if e.cfg.Startup.SerializeImagePulls {
		k.queue = append(k.queue, int32(p.ID))
		if !k.pulling {
			e.nextSerialPull(n, now)
		}
		return
	}
	e.beginPull(p, n, img, now)
}

func (e kubelet) pullFailed(p *Pod, key backoffKey, now float64, why string) {
	s := &e.cfg.Startup
	k := &p.Node.kubelet
	b := k.backoff[key]
	if b.period == 0 {
		b.period = s.ImageBackoffInitial
	} else {
		b.period = min(2*b.period, s.ImageBackoffMax)
	}
	b.until = now + b.period
	k.backoff[key] = b
	p.PullFailures++
	e.record(now, RecPullFailed, p, p.Node, why)
	e.retry(p, now)
}

// nextSerialPull starts the head of the node's serial pull queue. The rate
// limiter is consulted when the puller takes the request.
func (e kubelet) nextSerialPull(n *Node, now float64) {
	k := &n.kubelet
	for len(k.queue) > 0 {
		pid := k.queue[0]
		k.queue = k.queue[1:]
		p := e.pods[pid]
		c, _ := p.container()
		img := e.internImage(c)
		if k.pulling && !k.pullBucket.TryAccept(now) {
			p.PullSeconds += now - p.pullStart
			e.pullFailed(p, backoffKey{pid, img}, now, "pull QPS exceeded")
			continue
		}
		k.pulling = true
		e.beginPull(p, n, img, now)
		return
	}
	k.pulling = false
}

// beginPull runs one pull of image img for pod p on node n.
func (e kubelet) beginPull(p *Pod, n *Node, img int32, now float64) {
	name := e.images[img]
	switch n.images[name] {
	case imagePresent:
		// Only the manifest is checked.
		e.after(now+Sample(e.cfg.Startup.ManifestCheck, e.rStartup), kPullDone, int32(p.ID), 0)
	case imagePulling:
		n.kubelet.waiters[img] = append(n.kubelet.waiters[img], int32(p.ID))
	default:
		n.images[name] = imagePulling
		n.kubelet.waiters[img] = append(n.kubelet.waiters[img], int32(p.ID))
		e.transfers.add(e, now, n.Index, img, float64(e.imageSizes[img]))
	}
}

// transferDone is called by the transfer pool when an image's bytes landed.
func (e kubelet) transferDone(node int, img int32, now float64) {
	e.after(now+Sample(e.cfg.Startup.PullOverhead, e.rStartup), kImageReady, int32(node), int64(img))
}

func (e kubelet) imageReady(n *Node, img64 int64, now float64) {
	img := int32(img64)
	name := e.images[img]
	n.images[name] = imagePresent
	n.imageSizes[name] = e.imageSizes[img]
	e.cluster.imageNodes[name]++
	e.progress(now)
	ws := n.kubelet.waiters[img]
	delete(n.kubelet.waiters, img)
	for _, pid := range ws {
		e.pullFinished(e.pods[pid], now)
	}
}

func (e kubelet) pullFinished(p *Pod, now float64) {
	p.PullSeconds += now - p.pullStart
	c, _ := p.container()
	e.record(now, RecPulled, p, p.Node, c.Image)
	n := p.Node
	if e.cfg.Startup.SerializeImagePulls && n.kubelet.pulling {
		e.nextSerialPull(n, now)
	}
	e.startContainer(p, now)
}

func (e kubelet) startContainer(p *Pod, now float64) {
	e.after(now+Sample(e.cfg.Startup.ContainerStart, e.rStartup), kContainerUp, int32(p.ID), 0)
}

func (e kubelet) containerUp(p *Pod, now float64) {
	c, isInit := p.container()
	if isInit {
		e.initRunning++
		e.progress(now)
		e.after(now+Sample(c.Duration, e.rStartup), kInitDone, int32(p.ID), 0)
		return
	}
	p.step++
	if p.step < len(p.Template.InitContainers)+len(p.Template.Containers) {
		e.sync(p, now)
		return
	}
	e.containersStarted(p, now)
}
