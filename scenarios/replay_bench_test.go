package scenarios

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/convergesim/converge/traces"
)

// BenchmarkReplaySWF reads and replays a synthetic SWF trace (generated
// outside the timed part: REPLAY_JOBS jobs, default 10,000, on a machine
// of REPLAY_NODES one-processor nodes, default 10,000) under Flux's EASY
// backfilling, end to end: the trace read and turned into jobs (Parse),
// the engine built and run. jobs/s is jobs replayed per wall second.
//
//	REPLAY_JOBS=1000000 go test ./scenarios -run '^$' -bench ReplaySWF -benchtime 1x -benchmem
func BenchmarkReplaySWF(b *testing.B) {
	jobs := envInt(b, "REPLAY_JOBS", 10_000)
	nodes := envInt(b, "REPLAY_NODES", 10_000)
	dir := b.TempDir()
	trace := filepath.Join(dir, "jobs.swf")
	f, err := os.Create(trace)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := traces.SyntheticSWF(w, jobs, nodes, 1); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	doc := fmt.Sprintf(`version: 1
name: replay-swf
cluster:
  pools:
    - {name: node, count: %d, cpu: 1, memory: 4Gi}
policy:
  name: flux
  flux: {queuePolicy: easy}
outputs: {events: false}
workloads:
  - name: swf
    trace: {files: [%s]}
`, nodes, trace)
	var simulated float64
	b.ResetTimer()
	for range b.N {
		sc, err := Parse(filepath.Join(dir, "replay.yaml"), []byte(doc), Overrides{})
		if err != nil {
			b.Fatal(err)
		}
		e, err := Build(sc)
		if err != nil {
			b.Fatal(err)
		}
		res, err := e.Run()
		if err != nil {
			b.Fatal(err)
		}
		simulated += res.End
	}
	b.ReportMetric(float64(jobs*b.N)/b.Elapsed().Seconds(), "jobs/s")
	b.ReportMetric(simulated/b.Elapsed().Seconds(), "simulated-s/s")
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}
