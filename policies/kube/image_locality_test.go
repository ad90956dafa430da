package kube

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/convergesim/converge/engine"
)

// scoreImageLocalityReference is ImageLocality as upstream computes it,
// asking every node for every image by name.
func scoreImageLocalityReference(s *Scheduler, ti *templateInfo, c *engine.Cluster, feasible []int32) ([]int64, bool) {
	total := float64(len(c.Nodes))
	var spread []float64
	var bound int64
	for _, im := range ti.images {
		name := s.images[im.id].name
		f := float64(c.NodesWithImage(name)) / total
		spread = append(spread, f)
		if f > 0 {
			bound += int64(float64(s.images[im.id].maxSize) * f)
		}
	}
	if len(ti.images) == 0 || bound <= imageMinThreshold {
		return nil, false
	}
	scores := make([]int64, len(feasible))
	for i, idx := range feasible {
		var sum int64
		for j, im := range ti.images {
			if size, ok := c.Nodes[idx].HasImage(s.images[im.id].name); ok {
				sum += int64(float64(size) * spread[j])
			}
		}
		scores[i] = imageScorePriority(sum, len(ti.images))
	}
	return scores, true
}

// imageCheck runs the scheduler and, after every Decide, scores random
// sets of nodes for every template with the interned path and the
// reference, which must agree.
type imageCheck struct {
	*Scheduler
	t       *testing.T
	r       *rand.Rand
	checks  int
	nonZero int
}

func (p *imageCheck) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	out = p.Scheduler.Decide(now, events, c, out)
	s := p.Scheduler
	saved := s.feasibleIdx
	for _, ti := range s.templates {
		var feasible []int32
		for i := range c.Nodes {
			if p.r.IntN(3) == 0 {
				feasible = append(feasible, int32(i))
			}
		}
		s.feasibleIdx = feasible
		got := make([]int64, len(feasible))
		ok := s.scoreImageLocality(ti, c, got)
		want, wantOK := scoreImageLocalityReference(s, ti, c, feasible)
		if ok != wantOK {
			p.t.Fatalf("t=%g: scored %v, reference %v", now, ok, wantOK)
		}
		if ok {
			for i := range got {
				if got[i] != want[i] {
					p.t.Fatalf("t=%g node %d: score %d, reference %d", now, feasible[i], got[i], want[i])
				}
				if got[i] != 0 {
					p.nonZero++
				}
			}
		}
		p.checks++
	}
	s.feasibleIdx = saved
	return out
}

// The interned ImageLocality scores equal the by-name reference on random
// feasible sets throughout real runs in which images are pulled over time
// (shared images, init containers, an image listed twice).
func TestImageLocalityMatchesReference(t *testing.T) {
	images := []engine.Container{
		{Image: "a:1", ImageSize: 800 * engine.MiB},
		{Image: "b:1", ImageSize: 300 * engine.MiB},
		{Image: "c:1", ImageSize: 50 * engine.MiB},
		{Image: "big:1", ImageSize: 2048 * engine.MiB},
		{Image: "a:1", ImageSize: 600 * engine.MiB}, // another declared size
	}
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 5))
		var templates []*engine.PodTemplate
		for range 5 {
			t := &engine.PodTemplate{RunTime: engine.Uniform{Min: 20, Max: 200}}
			for k := range 1 + r.IntN(3) {
				c := images[r.IntN(len(images))]
				c.Name, c.PullPolicy, c.MilliCPU, c.Memory = fmt.Sprint("c", k), engine.PullIfNotPresent, 500, gi
				t.Containers = append(t.Containers, c)
			}
			if r.IntN(2) == 0 {
				c := images[r.IntN(len(images))]
				c.Name, c.PullPolicy, c.Duration = "init", engine.PullIfNotPresent, engine.Const(1)
				t.InitContainers = append(t.InitContainers, c)
			}
			templates = append(templates, t)
		}
		s := newTestScheduler(t, DefaultConfig(), seed)
		p := &imageCheck{Scheduler: s, t: t, r: rand.New(rand.NewPCG(seed, 6))}
		ecfg := engineConfig(makeNodes(40, 8000, 32*gi), seed)
		ecfg.Record = false
		ecfg.Startup.RegistryBandwidth = 400 * float64(engine.MiB)
		ecfg.Startup.NodeBandwidth = 100 * float64(engine.MiB)
		ecfg.Startup.PullOverhead = engine.Const(1)
		e, err := engine.New(ecfg, p)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 400 {
			job := &engine.Job{Name: fmt.Sprint("p", i), Kind: engine.KindPod, Template: templates[r.IntN(len(templates))]}
			if err := e.Submit(float64(i)*0.5, job); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Run(); err != nil {
			t.Fatal(err)
		}
		if p.checks == 0 || p.nonZero == 0 {
			t.Fatalf("seed %d: %d checks, %d non-zero scores", seed, p.checks, p.nonZero)
		}
	}
}
