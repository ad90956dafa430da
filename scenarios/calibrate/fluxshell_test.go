package calibrate

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/convergesim/converge/engine"
)

// The job shell's start-up: fitted to the exec eventlogs, checked by
// leaving each node count out, and the engine's default is the fit.
func TestShellStartFit(t *testing.T) {
	runs, err := ReadShellRuns(filepath.Join(appDataRoot, "formats", "flux-jobspec-and-events.json"))
	if err != nil {
		t.Skipf("calibration data not available (%v); it lives in ../shared/data beside the repository", err)
	}
	f := FitShellStart(runs)
	t.Logf("fit over %d runs: base %.4f s + %.6f s per node", len(runs), f.Base, f.PerNode)
	var fitErr, baseErr float64
	hs := HoldOutShellStart(runs)
	for _, h := range hs {
		t.Logf("held out %4d nodes (%2d runs): measured %.3f s, fit %.3f s (%.0f %%), baseline %.3f s (%.0f %%)", h.Nodes, h.Runs, h.Measured, h.Predicted, 100*h.RelErr, h.Baseline, 100*h.BaselineRE)
		fitErr += h.RelErr
		baseErr += h.BaselineRE
	}
	fitErr /= float64(len(hs))
	baseErr /= float64(len(hs))
	t.Logf("mean held-out relative error: fit %.0f %%, baseline (median of the other sizes) %.0f %%", 100*fitErr, 100*baseErr)
	if !(fitErr < baseErr) {
		t.Errorf("the size-dependent fit (%.2f) does not beat the size-blind baseline (%.2f) on held-out sizes", fitErr, baseErr)
	}
	d := engine.DefaultShellStart()
	if math.Abs(d.Base-f.Base) > 0.0005 || math.Abs(d.PerNode-f.PerNode) > 0.000005 {
		t.Errorf("engine.DefaultShellStart %+v is not the fit %+v (rounded); update it", d, f)
	}
}
