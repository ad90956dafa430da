package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// runMany runs a Job of many short pods through the real engine on two
// nodes, stopped at the horizon with pods still running and pending;
// sink, if set, gets the pods as they end.
func runMany(t *testing.T, sink engine.PodSink) *engine.Result {
	t.Helper()
	nodes := []*engine.Node{
		{Name: "n0", Allocatable: engine.Resources{MilliCPU: 64000, Memory: 256 * engine.GiB, Pods: 110}},
		{Name: "n1", Allocatable: engine.Resources{MilliCPU: 64000, Memory: 256 * engine.GiB, Pods: 110}},
	}
	e, err := engine.New(engine.Config{Seed: 3, Nodes: nodes, Startup: engine.DefaultStartup(), Controllers: engine.DefaultControllers(), Horizon: 2000}, &firstFit{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &engine.PodTemplate{
		Containers: []engine.Container{{Name: "main", Image: "registry.example/app:1", ImageSize: 50 * engine.MiB,
			PullPolicy: engine.PullIfNotPresent, MilliCPU: 1000, Memory: engine.GiB}},
		RunTime: engine.Uniform{Min: 1, Max: 30},
	}
	if err := e.Submit(0, &engine.Job{Name: "many", Kind: engine.KindIndexedJob, Parallelism: 120, Completions: 20000, Template: tmpl}); err != nil {
		t.Fatal(err)
	}
	if sink != nil {
		e.SetPodSink(sink)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// openPods opens a report folder and its pods.csv writer; the folder is
// aborted at the end of the test unless committed.
func openPods(t *testing.T, dir string) (*Output, *PodWriter) {
	t.Helper()
	out, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(out.Abort)
	pw, err := out.Pods()
	if err != nil {
		t.Fatal(err)
	}
	return out, pw
}

// TestPodsStreamedSameBytes: pods.csv written as the run goes (several
// batches during the run, the pods not ended at the horizon at Commit) is
// byte for byte the file written at the end.
func TestPodsStreamedSameBytes(t *testing.T) {
	base := t.TempDir()
	whole := filepath.Join(base, "whole")
	res := runMany(t, nil)
	if err := Write(whole, res, Meta{Scenario: "many"}, Options{}); err != nil {
		t.Fatal(err)
	}

	streamed := filepath.Join(base, "streamed")
	out, pw := openPods(t, streamed)
	res2 := runMany(t, pw)
	ended := 0
	for _, p := range res2.Pods {
		if p.Phase == engine.PodSucceeded {
			ended++
		}
	}
	if res2.Stopped != "horizon" || ended == len(res2.Pods) {
		t.Fatalf("the run should stop at the horizon with pods left: stopped %q, %d of %d ended", res2.Stopped, ended, len(res2.Pods))
	}
	if pw.n < 2*batchSize || pw.n >= len(res2.Pods) {
		t.Fatalf("%d of %d pods handed over during the run, want several batches of %d and not all", pw.n, len(res2.Pods), batchSize)
	}
	if _, err := out.Commit(res2, Meta{Scenario: "many"}); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(whole, PodsFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(streamed, PodsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("streamed pods.csv differs from the one written at the end:\n%s", firstDiff(a, b))
	}
	if n := bytes.Count(b, []byte{'\n'}); n != len(res2.Pods)+1 {
		t.Fatalf("pods.csv has %d lines, want %d pods and the header", n, len(res2.Pods))
	}
}

// TestPodsStreamOtherResult: finishing the stream with a result whose
// first pods are not those handed over is an error, not a mixed file.
func TestPodsStreamOtherResult(t *testing.T) {
	out, pw := openPods(t, filepath.Join(t.TempDir(), "out"))
	runMany(t, pw)
	other := runMany(t, nil)
	if _, err := out.Commit(other, Meta{Scenario: "many"}); err == nil || !strings.Contains(err.Error(), "not this result's") {
		t.Fatalf("err = %v, want the pods written during the run refused", err)
	}
}

// TestPodsOutOfOrder: a sink handed pods out of id order refuses them.
func TestPodsOutOfOrder(t *testing.T) {
	out, pw := openPods(t, filepath.Join(t.TempDir(), "out"))
	res := fixture(false)
	if err := pw.Pods(res.Pods[1:2]); err == nil || !strings.Contains(err.Error(), "handed over after") {
		t.Fatalf("err = %v, want pod 1 refused before pod 0", err)
	}
	if err := pw.Pods(res.Pods[:1]); err != nil {
		t.Fatal(err)
	}
	out.Abort()
	if err := pw.Pods(res.Pods[1:2]); !errors.Is(err, errAborted) {
		t.Fatalf("after Abort: err = %v, want %v", err, errAborted)
	}
}
