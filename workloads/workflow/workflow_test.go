package workflow

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
	"github.com/convergesim/converge/workloads/learn"
)

// sized returns a job factory of bare pods whose run time is a known
// function of the size (1 + Σ size), recording the sizes it was given.
func sized(name string, sizes *[][]int) func([]int, int) (*engine.Job, error) {
	return func(size []int, k int) (*engine.Job, error) {
		*sizes = append(*sizes, append([]int(nil), size...))
		run := 1.0
		for _, s := range size {
			run += float64(s)
		}
		return enginetest.Pod(name+"-"+string(rune('a'+k%26)), enginetest.Template("app", run)), nil
	}
}

func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New(enginetest.ExactConfig(enginetest.Nodes(2, engine.Resources{MilliCPU: 4000, Memory: 8 * engine.GiB, Pods: 110})), &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Runs of a stage go one after another; a stage waits for the stages
// it comes after; independent stages run side by side; the service
// learns from the learning stage and is scored on the predicting one.
func TestDriverOrderAndService(t *testing.T) {
	e := newEngine(t)
	var trainSizes, testSizes, sideSizes [][]int
	wf := Workflow{Name: "w", At: 5, Service: &Service{Name: "s", Models: []learn.Spec{{Model: learn.BayesianLinear}}, ServiceTime: 0.5},
		Stages: []Stage{
			{Name: "train", Runs: 6, Size: [][2]int{{1, 4}, {1, 3}}, Learn: true, NewJob: sized("train", &trainSizes)},
			{Name: "side", Runs: 2, NewJob: sized("side", &sideSizes)},
			{Name: "test", After: []int{0}, Runs: 3, Size: [][2]int{{1, 4}, {1, 3}}, Predict: true, NewJob: sized("test", &testSizes)},
		}}
	d, err := Start(e, []Workflow{wf}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	byStage := map[string][]*engine.Job{}
	for _, j := range res.Jobs {
		st := j.Name[:strings.IndexByte(j.Name, '-')]
		byStage[st] = append(byStage[st], j)
	}
	if len(byStage["train"]) != 6 || len(byStage["test"]) != 3 || len(byStage["side"]) != 2 {
		t.Fatalf("runs by stage: %d train, %d test, %d side", len(byStage["train"]), len(byStage["test"]), len(byStage["side"]))
	}
	for st, js := range byStage {
		if js[0].Submitted != 5 && st != "test" {
			t.Errorf("stage %s started at %v, want the workflow's at (5)", st, js[0].Submitted)
		}
		for i := 1; i < len(js); i++ {
			gap := js[i].Submitted - js[i-1].Finished
			want := 0.0
			if st != "side" {
				want = 0.5 // the service's answer before the next run
			}
			if gap != want {
				t.Errorf("stage %s run %d submitted %v after the previous finished, want %v", st, i, gap, want)
			}
		}
	}
	lastTrain := byStage["train"][5].Finished
	if got := byStage["test"][0].Submitted; got != lastTrain+0.5+0.5 {
		t.Errorf("test started at %v, want after train's last run (%v) and two answers (learn, then predict)", got, lastTrain)
	}
	for _, s := range append(trainSizes, testSizes...) {
		if len(s) != 2 || s[0] < 1 || s[0] > 4 || s[1] < 1 || s[1] > 3 {
			t.Fatalf("size %v outside its ranges", s)
		}
	}
	r := d.Results()
	if len(r) != 1 || !r[0].Done || len(r[0].Models) != 1 {
		t.Fatalf("results %+v", r)
	}
	m := r[0].Models[0]
	// The first training run meets a fresh model (prediction 0, not
	// counted); every test run is scored.
	if m.Train.N != 5 || m.Test.N != 3 {
		t.Errorf("model scored %d training and %d test pairs, want 5 and 3", m.Train.N, m.Test.N)
	}
	if got := r[0].Stages[0].WallMean; !(got > 1) {
		t.Errorf("train mean wall time %v", got)
	}
}

// A factory that fails stops the driver with its error; a stage that
// posts to no service is refused at Start.
func TestDriverErrors(t *testing.T) {
	e := newEngine(t)
	boom := errors.New("boom")
	_, err := Start(e, []Workflow{{Name: "w", Stages: []Stage{{Name: "s", Runs: 1, NewJob: func([]int, int) (*engine.Job, error) { return nil, boom }}}}}, rand.New(rand.NewPCG(1, 2)))
	if !errors.Is(err, boom) {
		t.Errorf("Start: %v, want the factory's error", err)
	}
	_, err = Start(newEngine(t), []Workflow{{Name: "w", Stages: []Stage{{Name: "s", Runs: 1, Learn: true, Size: [][2]int{{1, 2}}, NewJob: func([]int, int) (*engine.Job, error) { return nil, nil }}}}}, rand.New(rand.NewPCG(1, 2)))
	if err == nil || !strings.Contains(err.Error(), "has none") {
		t.Errorf("a learning stage without a service: %v", err)
	}
}
