package traces

import (
	"encoding/json"
	"math"
	"os"
	"path"
	"strconv"
	"testing"
)

// The real collection of the performance study (see
// ../../shared/data/README.md).
const fxSample = "../../shared/data/formats/flux-jobspec-and-events.json"

// fxSampleResource is a jobspec resource as the test reads it, apart
// from the reader.
type fxSampleResource struct {
	Type      string             `json:"type"`
	Count     int                `json:"count"`
	Exclusive bool               `json:"exclusive"`
	With      []fxSampleResource `json:"with"`
}

// totals adds up the resources under rs, each count times its
// ancestors'.
func fxSampleTotals(rs []fxSampleResource, mult int, tot map[string]int, exclusive *bool) {
	for _, r := range rs {
		m := mult * r.Count
		tot[r.Type] += m
		if r.Type == "node" && r.Exclusive {
			*exclusive = true
		}
		fxSampleTotals(r.With, m, tot, exclusive)
	}
}

func TestFluxJobspecEventsSample(t *testing.T) {
	raw, err := os.ReadFile(fxSample)
	if err != nil {
		t.Skipf("the performance study's collection is not here (%v)", err)
	}
	var doc map[string][]struct {
		Jobspec struct {
			Resources []fxSampleResource `json:"resources"`
			Tasks     []struct {
				Command []string `json:"command"`
				Count   struct {
					PerSlot int `json:"per_slot"`
				} `json:"count"`
			} `json:"tasks"`
			Attributes struct {
				System struct {
					Duration float64 `json:"duration"`
				} `json:"system"`
			} `json:"attributes"`
		} `json:"jobspec"`
		Events []struct {
			Timestamp float64        `json:"timestamp"`
			Name      string         `json:"name"`
			Context   map[string]any `json:"context"`
		} `json:"events"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	tr, err := Open([]string{fxSample}, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Formats[0] != "flux-jobspec-events" {
		t.Fatalf("detected as %s", tr.Formats[0])
	}
	entries := 0
	for exp, runs := range doc {
		for i, run := range runs {
			entries++
			j := tr.FindJob(exp + "#" + strconv.Itoa(i))
			if j == nil {
				t.Errorf("no job for %s entry %d", exp, i)
				continue
			}
			tot := map[string]int{}
			exclusive := false
			fxSampleTotals(run.Jobspec.Resources, 1, tot, &exclusive)
			tasks := tot["slot"] * run.Jobspec.Tasks[0].Count.PerSlot
			if j.Nodes != tot["node"] || j.Tasks != tasks || j.CoresPerTask != tot["core"]/tasks || j.GPUsPerTask != tot["gpu"]/tasks ||
				j.Exclusive != exclusive || j.Walltime != run.Jobspec.Attributes.System.Duration ||
				j.App != path.Base(run.Jobspec.Tasks[0].Command[0]) || j.Params["experiment"] != exp {
				t.Errorf("%s: nodes %d tasks %d cores/task %d gpus/task %d exclusive %v walltime %g app %s; jobspec %v, %d tasks",
					j.ID, j.Nodes, j.Tasks, j.CoresPerTask, j.GPUsPerTask, j.Exclusive, j.Walltime, j.App, tot, tasks)
			}
			var start, end, shells, mapped float64 = math.NaN(), math.NaN(), 0, 0
			status := -1.0
			for _, e := range run.Events {
				switch e.Name {
				case "shell.start":
					start = e.Timestamp
					for _, b := range e.Context["taskmap"].(map[string]any)["map"].([]any) {
						blk := b.([]any)
						mapped += blk[1].(float64) * blk[2].(float64) * blk[3].(float64)
					}
				case "shell.init":
					shells = e.Context["size"].(float64)
				case "complete":
					end = e.Timestamp
					status = e.Context["status"].(float64)
				}
			}
			if j.Start != start || j.End != end || !(j.End > j.Start) || len(j.Events) != len(run.Events) {
				t.Errorf("%s: start %v end %v events %d; exec eventlog %v %v %d", j.ID, j.Start, j.End, len(j.Events), start, end, len(run.Events))
			}
			if float64(j.Tasks) != mapped || float64(j.Nodes) != shells {
				t.Errorf("%s: %d tasks on %d nodes; the taskmap places %g on %g shells", j.ID, j.Tasks, j.Nodes, mapped, shells)
			}
			if (status == 0) != (j.Status == "completed") || j.ExitCode != int(status)>>8 {
				t.Errorf("%s: status %s exit %d; complete's status %v", j.ID, j.Status, j.ExitCode, status)
			}
			if Known(j.Submit) {
				t.Errorf("%s: a submit time the collection does not record", j.ID)
			}
		}
	}
	if len(tr.Jobs) != entries {
		t.Errorf("%d jobs, %d entries in the file", len(tr.Jobs), entries)
	}
	if !fxHasNote(tr, "flux-jobspec-events-submit") {
		t.Errorf("no note on the missing submit times: %v", tr.Notes)
	}
}
