package scenarios

import (
	"os"
	"runtime"
	"testing"
)

// fuzzLimits is the memory limit FuzzBuild checks scenarios against.
var fuzzLimits = Limits{MaxBytes: 64 << 20}

// FuzzBuild: parse, validate, estimate and Build arbitrary scenario
// bytes (and one override). Nothing panics; every refusal is a located
// *Error; a scenario CheckSize lets through is built, and Build
// allocates no more than its estimate (which is within the limit).
func FuzzBuild(f *testing.F) {
	for _, doc := range []string{minimal, appMinimal, qmcpackScenario, launchMinimal} {
		f.Add([]byte(doc), "")
	}
	for _, file := range []string{"kube-basic.yaml", "pod-startup.yaml", "image-pull.yaml", "usernetes-collectives.yaml", "fluence-vs-kube.yaml"} {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, "")
		}
	}
	for _, c := range hostileCases(f, 100) {
		set := ""
		if len(c.set) > 0 {
			set = c.set[0]
		}
		if len(c.doc) <= 64<<10 {
			f.Add([]byte(c.doc), set)
		}
	}
	f.Add([]byte(minimal), "cluster.pools[0].count=100000")
	f.Add([]byte(minimal), "workloads[0].parallelism=10000")
	f.Fuzz(func(t *testing.T, doc []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		sc, err := Parse("fuzz.yaml", doc, Overrides{Set: sets, IgnoreEnv: true})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse: %T %v is not a located *Error", err, err)
			}
			return
		}
		if err := CheckSize(sc, fuzzLimits); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("CheckSize: %T %v is not a located *Error", err, err)
			}
			return
		}
		est := Estimate(sc)
		if est.Bytes > fuzzLimits.MaxBytes {
			t.Fatalf("CheckSize let through an estimate of %d bytes", est.Bytes)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e, err := Build(sc)
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(e)
		if err != nil {
			t.Fatalf("Build refused a validated scenario within the limits: %v", err)
		}
		if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > est.Bytes {
			t.Fatalf("Build allocated %d bytes, more than the estimate %d", alloc, est.Bytes)
		}
	})
}
