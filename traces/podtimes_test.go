package traces

import (
	"math"
	"strings"
	"testing"
)

const sample = `,time_seconds,event,pod,size,experiment,iteration
0,2.85,watch_create,all,2,pods,0
1,33.0,watch_delete,all,2,pods,0
2,0.0,PodScheduled,pod-0,2,pods,0
3,0.0,Initialized,pod-0,2,pods,0
4,1.0,Ready,pod-0,2,pods,0
5,1.0,ContainersReady,pod-0,2,pods,0
6,0.0,PodScheduled,pod-1,2,pods,0
7,16.0,Ready,pod-1,2,pods,0
`

func TestReadPodTimes(t *testing.T) {
	runs, err := ReadPodTimes(strings.NewReader(sample), "s.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Size != 2 || runs[0].Experiment != "pods" || runs[0].WatchCreate != 2.85 {
		t.Fatalf("runs = %+v", runs[0])
	}
	p1 := runs[0].Pods["pod-1"]
	if p1.Ready != 16 || !math.IsNaN(p1.Initialized) {
		t.Errorf("pod-1 = %+v", p1)
	}
}

func TestReadPodTimesErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "s.csv: empty file"},
		{",time,event\n", `s.csv: line 1: missing column "time_seconds"`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,-1,Ready,p,2,pods,0\n", `s.csv: line 2: time_seconds: not a non-negative number: "-1"`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,1,Ready,p,x,pods,0\n", `s.csv: line 2: size: not a positive integer: "x"`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,1,Boom,p,2,pods,0\n", `s.csv: line 2: event: unknown event "Boom"`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,1,Ready\n", "wrong number of fields"},
		{",time_seconds,event,pod,size,experiment,iteration\n", "s.csv: no rows"},
	} {
		_, err := ReadPodTimes(strings.NewReader(tc.in), "s.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadPodTimes(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzReadPodTimes(f *testing.F) {
	f.Add(sample)
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = ReadPodTimes(strings.NewReader(in), "fuzz.csv") // must not panic
	})
}
