package engine_test

import (
	"fmt"

	"github.com/convergesim/converge/engine"
)

// firstNode binds every pod to the first node as soon as it is created.
type firstNode struct{}

func (firstNode) Name() string { return "first-node" }

func (firstNode) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	for _, ev := range events {
		if ev.Kind == engine.PodCreated {
			out = append(out, engine.Decision{Kind: engine.Bind, Pod: ev.Pod, Node: c.Nodes[0]})
		}
	}
	return out
}

// A bare pod's lifecycle on one node with constant latencies: the create
// call (0.25 s), the bind (0.125 s), the kubelet's first sync (0.0625 s),
// the sandbox (1 s), the image pull (2 s), the container start (0.5 s),
// the readiness probe (4 s) and the run (10 s).
func Example() {
	node := &engine.Node{Name: "node-0", Allocatable: engine.Resources{MilliCPU: 4000, Memory: 16 * engine.GiB, Pods: 110}}
	cfg := engine.Config{
		Seed:  1,
		Nodes: []*engine.Node{node},
		Startup: engine.Startup{
			BindLatency:    engine.Const(0.125),
			SyncDelay:      engine.Const(0.0625),
			Sandbox:        engine.Const(1),
			ContainerStart: engine.Const(0.5),
			PullOverhead:   engine.Const(2),
		},
		Controllers: engine.Controllers{CreateLatency: engine.Const(0.25)},
	}
	e, err := engine.New(cfg, firstNode{})
	if err != nil {
		fmt.Println(err)
		return
	}
	tmpl := &engine.PodTemplate{
		Containers:     []engine.Container{{Name: "main", Image: "app:1", ImageSize: 100 * engine.MiB, MilliCPU: 1000, Memory: engine.GiB}},
		ReadinessDelay: engine.Const(4),
		RunTime:        engine.Const(10),
	}
	if err := e.Submit(0, &engine.Job{Name: "hello", Kind: engine.KindPod, Template: tmpl}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := e.Run()
	if err != nil {
		fmt.Println(err)
		return
	}
	p := res.Pods[0]
	fmt.Printf("pod %s on %s\n", p.Name, p.Node.Name)
	fmt.Printf("created     %7.4f\n", p.Created)
	fmt.Printf("assigned    %7.4f\n", p.Assigned)
	fmt.Printf("scheduled   %7.4f\n", p.Scheduled)
	fmt.Printf("initialized %7.4f\n", p.Initialized)
	fmt.Printf("started     %7.4f  (pulled for %g s)\n", p.ContainersStarted, p.PullSeconds)
	fmt.Printf("ready       %7.4f\n", p.Ready)
	fmt.Printf("finished    %7.4f\n", p.Finished)
	fmt.Printf("start-up delay %.4f s; run ended at %g (%q)\n", p.StartupDelay(), res.End, res.Stopped)
	// Output:
	// pod hello on node-0
	// created      0.2500
	// assigned     0.2500
	// scheduled    0.3750
	// initialized  0.4375
	// started      3.9375  (pulled for 2 s)
	// ready        7.9375
	// finished    13.9375
	// start-up delay 3.6875 s; run ended at 13.9375 ("")
}
