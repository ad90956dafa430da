package learn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func mustNew(t *testing.T, s Spec, dim int) Regressor {
	t.Helper()
	m, err := New(s, dim)
	if err != nil {
		t.Fatalf("New(%v): %v", s, err)
	}
	return m
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestStandardScalerMatchesBatchStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	s := NewStandardScaler(2)
	var seen [][]float64
	z := make([]float64, 2)
	for i := 0; i < 200; i++ {
		x := []float64{r.NormFloat64()*3 + 10, float64(r.IntN(5))}
		s.Learn(x)
		seen = append(seen, x)
		for j := 0; j < 2; j++ {
			mean, ss := 0.0, 0.0
			for _, v := range seen {
				mean += v[j]
			}
			mean /= float64(len(seen))
			for _, v := range seen {
				ss += (v[j] - mean) * (v[j] - mean)
			}
			popVar := ss / float64(len(seen)) // divisor n, as River
			if !near(s.Mean()[j], mean, 1e-12) || !near(s.Var()[j], popVar, 1e-10) {
				t.Fatalf("step %d feature %d: mean %g var %g, batch %g %g", i, j, s.Mean()[j], s.Var()[j], mean, popVar)
			}
			s.Transform(x, z)
			want := 0.0
			if popVar > 0 {
				want = (x[j] - mean) / math.Sqrt(popVar)
			}
			if !near(z[j], want, 1e-9) {
				t.Fatalf("step %d feature %d: transform %g, want %g", i, j, z[j], want)
			}
		}
	}
}

func TestLinearRegressionFirstSteps(t *testing.T) {
	// Raw features: one SGD step from zero, by the rule
	// g = 2(ŷ−y), b −= intercept_lr·g, w −= lr·g·x.
	const lr, ilr = 0.01, 0.1
	m, err := NewLinearRegression(2, LinearConfig{LR: lr, InterceptLR: ilr, ClipGradient: 1e12})
	if err != nil {
		t.Fatal(err)
	}
	x, y := []float64{1, 2}, 3.0
	if err := m.Learn(x, y); err != nil {
		t.Fatal(err)
	}
	g := 2 * (0 - y)
	w, b := m.Weights()
	if !near(b, -ilr*g, 1e-15) || !near(w[0], -lr*g*x[0], 1e-15) || !near(w[1], -lr*g*x[1], 1e-15) {
		t.Fatalf("after one step w=%v b=%g", w, b)
	}
	// Second step from that state, with the L2 term and clipping.
	m2, _ := NewLinearRegression(2, LinearConfig{LR: lr, InterceptLR: ilr, L2: 0.5, ClipGradient: 1})
	_ = m2.Learn(x, y)
	w1, b1 := m2.Weights()
	g1 := math.Max(-1, math.Min(1, 2*(0-y)))
	if !near(b1, -ilr*g1, 1e-15) || !near(w1[1], -lr*g1*x[1], 1e-15) {
		t.Fatalf("clipped step: w=%v b=%g, gradient %g", w1, b1, g1)
	}
	x2, y2 := []float64{-1, 0.5}, 1.0
	_ = m2.Learn(x2, y2)
	w2, b2 := m2.Weights()
	g2 := math.Max(-1, math.Min(1, 2*(w1[0]*x2[0]+w1[1]*x2[1]+b1-y2)))
	if !near(b2, b1-ilr*g2, 1e-15) {
		t.Fatalf("second intercept %g, want %g", b2, b1-ilr*g2)
	}
	for j := range w2 {
		if want := w1[j] - lr*(g2*x2[j]+0.5*w1[j]); !near(w2[j], want, 1e-15) {
			t.Fatalf("second step weight %d: %g, want %g", j, w2[j], want)
		}
	}

	// With the scaler the first example standardises to 0 (no variance
	// yet): only the intercept moves.
	ms := mustNew(t, Spec{Model: Linear, Params: map[string]float64{"intercept_lr": ilr}}, 2)
	_ = ms.Learn(x, y)
	ws, bs := ms.(*LinearRegression).Weights()
	if ws[0] != 0 || ws[1] != 0 || !near(bs, -ilr*g, 1e-15) {
		t.Fatalf("scaled first step: w=%v b=%g", ws, bs)
	}
	// The second example is standardised with the statistics that
	// include it (the scaler learns before transforming).
	_ = ms.Learn(x2, y2)
	sc := ms.(*LinearRegression).Scaler()
	mean0, var0 := (x[0]+x2[0])/2, ((x[0]-x2[0])/2)*((x[0]-x2[0])/2)
	z0 := (x2[0] - mean0) / math.Sqrt(var0)
	if !near(sc.Mean()[0], mean0, 1e-15) || !near(sc.Var()[0], var0, 1e-15) {
		t.Fatalf("scaler after two: mean %v var %v", sc.Mean(), sc.Var())
	}
	g2s := 2 * (bs - y2) // the weights were 0
	ws2, _ := ms.(*LinearRegression).Weights()
	if !near(ws2[0], -0.01*g2s*z0, 1e-12) {
		t.Fatalf("scaled second step weight %g, want %g", ws2[0], -0.01*g2s*z0)
	}
}

func TestLinearRegressionConvergesOnLinearData(t *testing.T) {
	// Noise-free linear data: constant-rate SGD on standardised features
	// converges to the exact function.
	truth := func(x []float64) float64 { return 3 + 2*x[0] - x[1] + 0.5*x[2] }
	for _, scale := range []float64{0, 1} {
		r := rand.New(rand.NewPCG(3, 4))
		m := mustNew(t, Spec{Model: Linear, Params: map[string]float64{"scale": scale, "intercept_lr": 0.1}}, 3)
		for i := 0; i < 20000; i++ {
			x := []float64{r.Float64()*4 - 2, r.Float64()*2 - 1, r.Float64() * 3}
			if err := m.Learn(x, truth(x)); err != nil {
				t.Fatal(err)
			}
		}
		worst := 0.0
		for i := 0; i < 100; i++ {
			x := []float64{r.Float64()*4 - 2, r.Float64()*2 - 1, r.Float64() * 3}
			p, _ := m.Predict(x)
			worst = math.Max(worst, math.Abs(p-truth(x)))
		}
		if worst > 1e-3 {
			t.Errorf("scale=%g: worst error %g after 20000 examples of noise-free linear data", scale, worst)
		}
	}
}

// batchPosterior computes Bishop's posterior mean and covariance directly
// from all the data: S = (αI + βXᵀX)⁻¹, m = βSXᵀy.
func batchPosterior(t *testing.T, xs [][]float64, ys []float64, alpha, beta float64) (*mat.VecDense, *mat.Dense) {
	t.Helper()
	d := len(xs[0])
	x := mat.NewDense(len(xs), d, nil)
	for i, r := range xs {
		x.SetRow(i, r)
	}
	var a mat.Dense
	a.Mul(x.T(), x)
	a.Scale(beta, &a)
	for i := 0; i < d; i++ {
		a.Set(i, i, a.At(i, i)+alpha)
	}
	var s mat.Dense
	if err := s.Inverse(&a); err != nil {
		t.Fatal(err)
	}
	var xty mat.VecDense
	xty.MulVec(x.T(), mat.NewVecDense(len(ys), ys))
	var m mat.VecDense
	m.MulVec(&s, &xty)
	m.ScaleVec(beta, &m)
	return &m, &s
}

func TestBayesianLinearRegressionIsTheBatchPosterior(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ alpha, beta float64 }{{1, 1}, {2, 0.5}, {0.01, 10}} {
		m, err := NewBayesianLinearRegression(3, BayesConfig{Alpha: c.alpha, Beta: c.beta})
		if err != nil {
			t.Fatal(err)
		}
		var xs [][]float64
		var ys []float64
		for i := 0; i < 60; i++ {
			x := []float64{float64(1 + r.IntN(32)), float64(1 + r.IntN(8)), float64(1 + r.IntN(16))}
			y := 4 + 0.05*x[0]*x[1]*x[2] + r.NormFloat64()
			if err := m.Learn(x, y); err != nil {
				t.Fatal(err)
			}
			xs, ys = append(xs, x), append(ys, y)
			if i%7 != 0 {
				continue
			}
			want, cov := batchPosterior(t, xs, ys, c.alpha, c.beta)
			got := m.Mean()
			for j := range got {
				if !near(got[j], want.AtVec(j), 1e-9) {
					t.Fatalf("alpha %g beta %g after %d: mean %v, batch %v", c.alpha, c.beta, i+1, got, mat.Formatted(want.T()))
				}
			}
			probe := []float64{5, 3, 7}
			p, _ := m.Predict(probe)
			if wantP := mat.Dot(want, mat.NewVecDense(3, probe)); !near(p, wantP, 1e-9) {
				t.Fatalf("prediction %g, want %g", p, wantP)
			}
			v, err := m.PredictVariance(probe)
			if err != nil {
				t.Fatal(err)
			}
			pv := mat.NewVecDense(3, probe)
			var sp mat.VecDense
			sp.MulVec(cov, pv)
			if wantV := 1/c.beta + mat.Dot(pv, &sp); !near(v, wantV, 1e-9) {
				t.Fatalf("predictive variance %g, want %g", v, wantV)
			}
		}
	}
}

func TestBayesianSmoothingFollowsRiversRecursion(t *testing.T) {
	// River's smoothed update with an explicit inverse:
	// P' = sP + (1−s)βxxᵀ, m' = P'⁻¹(sPm + (1−s)βxy).
	const alpha, beta, s = 1.0, 2.0, 0.8
	m, err := NewBayesianLinearRegression(2, BayesConfig{Alpha: alpha, Beta: beta, Smoothing: s})
	if err != nil {
		t.Fatal(err)
	}
	p := mat.NewDense(2, 2, []float64{alpha, 0, 0, alpha})
	mean := mat.NewVecDense(2, nil)
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 40; i++ {
		x := []float64{r.Float64(), r.Float64()}
		y := 0.1*x[0] + 3*x[1]
		if i >= 20 {
			y = 10*x[0] - 2*x[1] // a drift
		}
		_ = m.Learn(x, y)
		xv := mat.NewVecDense(2, x)
		var outer mat.Dense
		outer.Outer((1-s)*beta, xv, xv)
		var pNew mat.Dense
		pNew.Scale(s, p)
		pNew.Add(&pNew, &outer)
		var rhs mat.VecDense
		rhs.MulVec(p, mean)
		rhs.ScaleVec(s, &rhs)
		rhs.AddScaledVec(&rhs, (1-s)*beta*y, xv)
		var inv mat.Dense
		if err := inv.Inverse(&pNew); err != nil {
			t.Fatal(err)
		}
		mean.MulVec(&inv, &rhs)
		p = &pNew
		got := m.Mean()
		if !near(got[0], mean.AtVec(0), 1e-9) || !near(got[1], mean.AtVec(1), 1e-9) {
			t.Fatalf("step %d: mean %v, recursion %v", i, got, mat.Formatted(mean.T()))
		}
	}
}

func TestPassiveAggressiveOneStep(t *testing.T) {
	// From zero weights ŷ = 0; one update by the closed forms.
	x := []float64{1, 2, 2} // ‖x‖² = 9
	const y, eps, C = 5.0, 0.1, 0.01
	for _, c := range []struct {
		mode       int
		riverHinge bool
		intercept  bool
	}{{0, false, true}, {1, false, true}, {2, false, false}, {2, true, false}, {1, true, true}} {
		m, err := NewPARegressor(3, PAConfig{C: C, Mode: c.mode, Eps: eps, LearnIntercept: c.intercept, RiverHinge: c.riverHinge})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Learn(x, y); err != nil {
			t.Fatal(err)
		}
		target := y
		if c.riverHinge {
			target = 2*y - 1
		}
		loss := math.Abs(0-target) - eps
		tau := map[int]float64{0: loss / 9, 1: math.Min(C, loss/9), 2: loss / (9 + 1/(2*C))}[c.mode]
		w, b := m.Weights()
		for j := range x {
			if !near(w[j], tau*x[j], 1e-15) {
				t.Fatalf("%+v: weight %d is %g, want %g", c, j, w[j], tau*x[j])
			}
		}
		wantB := 0.0
		if c.intercept {
			wantB = tau
		}
		if !near(b, wantB, 1e-15) {
			t.Fatalf("%+v: intercept %g, want %g", c, b, wantB)
		}
	}
	// Over-prediction steps down: from the PA (mode 0) state the
	// prediction equals y − ε after one step; a second example with a
	// smaller target moves the prediction down.
	m, _ := NewPARegressor(3, PAConfig{C: 1, Mode: 0, Eps: eps})
	_ = m.Learn(x, y)
	p, _ := m.Predict(x)
	if !near(p, y-eps, 1e-12) {
		t.Fatalf("PA after one step predicts %g, want y−ε = %g", p, y-eps)
	}
	// Inside the ε zone nothing moves.
	w0, _ := m.Weights()
	_ = m.Learn(x, p+eps/2)
	w1, _ := m.Weights()
	for j := range w0 {
		if w0[j] != w1[j] {
			t.Fatalf("an example inside the ε zone moved the weights: %v → %v", w0, w1)
		}
	}
	_ = m.Learn(x, 1)
	if p2, _ := m.Predict(x); p2 >= p {
		t.Fatalf("a smaller target did not lower the prediction: %g → %g", p, p2)
	}
}

func TestRiverHingeKeepsPAMovingNearTheTarget(t *testing.T) {
	// With the paper's loss, PA-II on a repeated example settles near y;
	// with River's (target 2y−1) it keeps stepping over y.
	x := []float64{3, 2, 4}
	const y = 40.0
	settle := func(rh bool) float64 {
		m, _ := NewPARegressor(3, PAConfig{C: 0.01, Mode: 2, Eps: 0.1, RiverHinge: rh})
		for i := 0; i < 200; i++ {
			_ = m.Learn(x, y)
		}
		p, _ := m.Predict(x)
		return math.Abs(p - y)
	}
	if e := settle(false); e > 0.2 {
		t.Errorf("paper PA-II: |ŷ−y| = %g after 200 repeats, want within ε", e)
	}
	if e := settle(true); e < 1 {
		t.Errorf("River's hinge: |ŷ−y| = %g after 200 repeats, expected it to keep overshooting", e)
	}
}

func TestBadParametersRejected(t *testing.T) {
	cases := []struct {
		spec Spec
		dim  int
		want string
	}{
		{Spec{Model: PassiveAggressive, Params: map[string]float64{"C": -1}}, 3, "C must be > 0"},
		{Spec{Model: PassiveAggressive, Params: map[string]float64{"C": 0}}, 3, "C must be > 0"},
		{Spec{Model: PassiveAggressive, Params: map[string]float64{"mode": 3}}, 3, "mode must be 0, 1 or 2"},
		{Spec{Model: PassiveAggressive, Params: map[string]float64{"mode": 1.5}}, 3, "mode must be 0, 1 or 2"},
		{Spec{Model: PassiveAggressive, Params: map[string]float64{"eps": -0.1}}, 3, "eps must be >= 0"},
		{Spec{Model: PassiveAggressive, Params: map[string]float64{"learn_intercept": 2}}, 3, "learn_intercept must be 0 or 1"},
		{Spec{Model: BayesianLinear, Params: map[string]float64{"alpha": 0}}, 3, "alpha must be > 0"},
		{Spec{Model: BayesianLinear, Params: map[string]float64{"alpha": -2}}, 3, "alpha must be > 0"},
		{Spec{Model: BayesianLinear, Params: map[string]float64{"beta": 0}}, 3, "beta must be > 0"},
		{Spec{Model: BayesianLinear, Params: map[string]float64{"smoothing": 1}}, 3, "smoothing must be"},
		{Spec{Model: BayesianLinear, Params: map[string]float64{"alpha": math.NaN()}}, 3, "alpha must be finite"},
		{Spec{Model: Linear, Params: map[string]float64{"lr": 0}}, 3, "lr must be > 0"},
		{Spec{Model: Linear, Params: map[string]float64{"intercept_lr": -1}}, 3, "intercept_lr must be >= 0"},
		{Spec{Model: Linear, Params: map[string]float64{"clip_gradient": 0}}, 3, "clip_gradient must be > 0"},
		{Spec{Model: Linear, Params: map[string]float64{"lr": math.Inf(1)}}, 3, "lr must be finite"},
		{Spec{Model: Linear, Params: map[string]float64{"learning_rate": 0.1}}, 3, `unknown parameter "learning_rate"`},
		{Spec{Model: "ridge"}, 3, `unknown model "ridge"`},
		{Spec{Model: Linear}, 0, "dimension must be at least 1"},
	}
	for _, c := range cases {
		_, err := New(c.spec, c.dim)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%v, %d): error %v, want one containing %q", c.spec, c.dim, err, c.want)
		}
	}
}

func TestBadInputRejected(t *testing.T) {
	for _, name := range Names() {
		m := mustNew(t, Spec{Model: name}, 3)
		for _, c := range []struct {
			x    []float64
			y    float64
			want string
		}{
			{[]float64{1, math.NaN(), 3}, 1, "feature 1 is NaN"},
			{[]float64{1, 2, math.Inf(-1)}, 1, "feature 2 is -Inf"},
			{[]float64{1, 2, 3}, math.NaN(), "target is NaN"},
			{[]float64{1, 2}, 1, "2 features, the model has 3"},
		} {
			err := m.Learn(c.x, c.y)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: Learn(%v, %g): %v, want an error naming the model and %q", name, c.x, c.y, err, c.want)
			}
		}
		if _, err := m.Predict([]float64{1, 2, 3, 4}); err == nil {
			t.Errorf("%s: Predict of 4 features on a 3-feature model succeeded", name)
		}
		// A refused example leaves the model untouched.
		if p, _ := m.Predict([]float64{1, 2, 3}); p != 0 {
			t.Errorf("%s: a refused example changed the model (prediction %g)", name, p)
		}
	}
	if _, _, err := Prequential(mustNew(t, Spec{Model: Linear}, 1), []Sample{{X: []float64{1}, Y: 1}, {X: []float64{math.NaN()}, Y: 1}}, PrequentialOptions{}); err == nil || !strings.Contains(err.Error(), "sample 1") {
		t.Errorf("Prequential with a NaN feature at sample 1: %v", err)
	}
}

func TestDefaultsAreRiversAndSpecsRoundTrip(t *testing.T) {
	for _, name := range Names() {
		ps, err := Params(name)
		if err != nil {
			t.Fatal(err)
		}
		def := map[string]float64{}
		for _, p := range ps {
			def[p.Name] = p.Default
		}
		// A model built with its defaults spelt out behaves as one
		// built with none.
		a := mustNew(t, Spec{Model: name}, 3)
		b := mustNew(t, Spec{Model: name, Params: def}, 3)
		r := rand.New(rand.NewPCG(1, 1))
		for i := 0; i < 50; i++ {
			x := []float64{r.Float64() * 10, r.Float64(), r.Float64() * 5}
			y := x[0] + 2*x[1] + r.NormFloat64()
			_ = a.Learn(x, y)
			_ = b.Learn(x, y)
			pa, _ := a.Predict(x)
			pb, _ := b.Predict(x)
			if pa != pb {
				t.Fatalf("%s: defaults and explicit defaults differ: %g vs %g", name, pa, pb)
			}
		}
		if a.Name() != name {
			t.Errorf("Name() = %q, want %q", a.Name(), name)
		}
	}
	if _, err := Params("nope"); err == nil {
		t.Error("Params of an unknown model succeeded")
	}
}

func TestModelsAreDeterministic(t *testing.T) {
	run := func() []float64 {
		r := rand.New(rand.NewPCG(9, 9))
		xs := DrawLammpsSizes(r, 300)
		var out []float64
		for _, s := range WorkflowSpecs() {
			m := mustNew(t, s, 3)
			stream := make([]Sample, len(xs))
			for i, x := range xs {
				stream[i] = Sample{X: x, Y: 3 + 0.07*x[0]*x[1]*x[2]}
			}
			_, p, err := Prequential(m, stream, PrequentialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p...)
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("prediction %d differs between identical runs: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestDrawLammpsSizesCoversTheRanges(t *testing.T) {
	xs := DrawLammpsSizes(rand.New(rand.NewPCG(2, 3)), 5000)
	for j, rg := range LammpsSizeRanges {
		seen := map[int]bool{}
		for _, x := range xs {
			v := int(x[j])
			if float64(v) != x[j] || v < rg.Min || v > rg.Max {
				t.Fatalf("factor %d: %g outside %d..%d or not an integer", j, x[j], rg.Min, rg.Max)
			}
			seen[v] = true
		}
		if len(seen) != rg.Max-rg.Min+1 {
			t.Errorf("factor %d: %d of the %d values drawn in 5000 draws", j, len(seen), rg.Max-rg.Min+1)
		}
	}
}
