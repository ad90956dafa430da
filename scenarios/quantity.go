package scenarios

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/internal/strictyaml"
)

// MaxQuantity is the largest resource amount, in the smallest unit
// (millicores, bytes): 2^53, which float64 holds exactly and which the
// scheduler's score arithmetic (amount × 100) cannot overflow.
const MaxQuantity = 1 << 53

var (
	ratOne           = big.NewRat(1, 1)
	quantitySuffixes = []struct {
		suffix string
		mult   *big.Rat
	}{
		{"Ki", big.NewRat(1<<10, 1)}, {"Mi", big.NewRat(1<<20, 1)},
		{"Gi", big.NewRat(1<<30, 1)}, {"Ti", big.NewRat(1<<40, 1)},
		{"Pi", big.NewRat(1<<50, 1)}, {"Ei", big.NewRat(1<<60, 1)},
		{"m", big.NewRat(1, 1000)}, {"k", big.NewRat(1e3, 1)},
		{"M", big.NewRat(1e6, 1)}, {"G", big.NewRat(1e9, 1)},
		{"T", big.NewRat(1e12, 1)}, {"P", big.NewRat(1e15, 1)},
		{"E", big.NewRat(1e18, 1)},
	}
)

// parseQuantity parses a Kubernetes resource quantity ("500m", "2", "1.5",
// "4Gi", "512Mi", "1G", "1e9") and returns its value multiplied by scale,
// which must come out as an integer of at most MaxQuantity.
func parseQuantity(s string, scale int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty quantity")
	}
	if len(s) > 64 {
		return 0, fmt.Errorf("cannot parse %s as a quantity (examples: 500m, 2, 4Gi, 1G)", quote(s))
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && i >= 0 && i <= MaxQuantity/scale {
		return i * scale, nil // a plain integer
	}
	num, mult := s, ratOne
	for _, sf := range quantitySuffixes {
		if strings.HasSuffix(s, sf.suffix) && !strings.ContainsAny(s[:len(s)-len(sf.suffix)], "eE") {
			num, mult = strings.TrimSuffix(s, sf.suffix), sf.mult
			break
		}
	}
	// big.Rat reads "1e999999999" by building 10^999999999: refuse
	// exponents no quantity needs before it does.
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		if e, err := strconv.Atoi(num[i+1:]); err != nil || e > 30 || e < -30 {
			return 0, fmt.Errorf("cannot parse %s as a quantity (examples: 500m, 2, 4Gi, 1G)", quote(s))
		}
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok || strings.ContainsAny(num, "/_xXpP") {
		return 0, fmt.Errorf("cannot parse %s as a quantity (examples: 500m, 2, 4Gi, 1G)", quote(s))
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("must not be negative, got %s", quote(s))
	}
	r.Mul(r, mult)
	r.Mul(r, big.NewRat(scale, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("%s is finer than the smallest unit", quote(s))
	}
	if r.Cmp(new(big.Rat).SetInt64(MaxQuantity)) > 0 {
		if scale == 1000 {
			return 0, fmt.Errorf("%s is too large (at most %d cpus)", quote(s), MaxQuantity/1000)
		}
		return 0, fmt.Errorf("%s is too large (at most 8Pi bytes)", quote(s))
	}
	return r.Num().Int64(), nil
}

// CPU is a CPU quantity in millicores ("500m", "2", 16).
type CPU int64

func (c *CPU) decodeYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return fmt.Errorf("must be a CPU quantity such as 500m or 2, got %s", kindName(n))
	}
	v, err := parseQuantity(n.Value, 1000)
	if err != nil {
		return err
	}
	*c = CPU(v)
	return nil
}

// Bytes is a memory, storage or bandwidth quantity in bytes ("4Gi", "1G").
type Bytes int64

func (b *Bytes) decodeYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return fmt.Errorf("must be a byte quantity such as 512Mi or 4Gi, got %s", kindName(n))
	}
	v, err := parseQuantity(n.Value, 1)
	if err != nil {
		return err
	}
	*b = Bytes(v)
	return nil
}

// Dist is a duration distribution in seconds: a number (constant) or a
// mapping {dist: const|uniform|exponential|lognormal|normal, …parameters}.
type Dist struct {
	D engine.Dist
}

var distParams = map[string][]string{
	"const":       {"value"},
	"uniform":     {"min", "max"},
	"exponential": {"mean"},
	"lognormal":   {"median", "sigma"},
	"normal":      {"mean", "sd"},
}

// MaxDuration is the longest simulated duration, in seconds, that a
// scenario may give or imply (1e9 s, about 31.7 years): a run time, a
// latency, a timeout, the last arrival. A distribution's 99.99th
// percentile must not exceed it.
const MaxDuration = 1e9

// maxDurationText names MaxDuration in messages.
const maxDurationText = "1e9 s, about 31.7 years"

// errTooLong is the message for a duration over MaxDuration.
func errTooLong(what string, v float64) error {
	return fmt.Errorf("%s%s s is longer than the longest duration a scenario may give (%s)", what, secs(v), maxDurationText)
}

// secs formats seconds for messages, to 4 significant digits.
func secs(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// z9999 is the standard normal's 99.99th percentile.
const z9999 = 3.7190164854556804

// zMax is beyond the largest value the engine's normal sampler
// (math/rand/v2 NormFloat64) can return (about 13): a lognormal draw
// median·e^(zMax·sigma) must be finite.
const zMax = 15

// Percentile9999 is d's 99.99th percentile (the value of a constant).
func Percentile9999(d engine.Dist) float64 {
	switch d := d.(type) {
	case engine.Const:
		return float64(d)
	case engine.Uniform:
		return d.Min + 0.9999*(d.Max-d.Min)
	case engine.Exponential:
		return d.MeanValue * math.Log(1e4)
	case engine.LogNormal:
		return d.Median * math.Exp(z9999*d.Sigma)
	case engine.Normal:
		return d.MeanValue + z9999*d.StdDev
	}
	return math.NaN()
}

func (d *Dist) decodeYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		v, err := strictyaml.Number(n)
		if err != nil {
			_, got, _ := strings.Cut(err.Error(), ", got ")
			return fmt.Errorf("must be a finite number of seconds or a distribution such as {dist: lognormal, median: 0.5, sigma: 0.3}, got %s", got)
		}
		if v < 0 {
			return fmt.Errorf("must not be negative, got %v", v)
		}
		if v > MaxDuration {
			return errTooLong("", v)
		}
		d.D = engine.Const(v)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("must be a number of seconds or a mapping such as {dist: lognormal, median: 0.5, sigma: 0.3}, got %s", kindName(n))
	}
	vals := map[string]float64{}
	name, named := "", false
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			return fmt.Errorf("keys must be strings")
		}
		k := strictyaml.Key(kn.Value)
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if kn.Value == "dist" {
			if named {
				return fmt.Errorf("dist: duplicate key")
			}
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("dist: must be a distribution name, got %s", kindName(v))
			}
			name, named = v.Value, true
			continue
		}
		if _, dup := vals[kn.Value]; dup {
			return fmt.Errorf("%s: duplicate key", k)
		}
		f, err := strictyaml.Number(v)
		if err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
		vals[kn.Value] = f
	}
	params, ok := distParams[name]
	if !ok {
		return fmt.Errorf("dist: unknown distribution %s (valid: const, exponential, lognormal, normal, uniform)", quote(name))
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if !slices.Contains(params, k) {
			return fmt.Errorf("%s: not a parameter of %s (parameters: %s)", strictyaml.Key(k), name, strings.Join(params, ", "))
		}
	}
	for _, p := range params {
		v, ok := vals[p]
		if !ok {
			return fmt.Errorf("%s distribution needs %s", name, p)
		}
		if v < 0 {
			return fmt.Errorf("%s: must not be negative, got %v", p, v)
		}
	}
	switch name {
	case "const":
		d.D = engine.Const(vals["value"])
	case "uniform":
		if vals["min"] > vals["max"] {
			return fmt.Errorf("uniform: min %v is above max %v", vals["min"], vals["max"])
		}
		d.D = engine.Uniform{Min: vals["min"], Max: vals["max"]}
	case "exponential":
		if vals["mean"] == 0 {
			return fmt.Errorf("mean: must be > 0")
		}
		d.D = engine.Exponential{MeanValue: vals["mean"]}
	case "lognormal":
		if vals["median"] == 0 {
			return fmt.Errorf("median: must be > 0")
		}
		m, s := vals["median"], vals["sigma"]
		if math.IsInf(m*math.Exp(zMax*s), 0) {
			return fmt.Errorf("lognormal: sigma %g is too large: draws can overflow (median·e^(%d·sigma) must be finite)", s, zMax)
		}
		d.D = engine.LogNormal{Median: m, Sigma: s}
	case "normal":
		d.D = engine.Normal{MeanValue: vals["mean"], StdDev: vals["sd"]}
	}
	if p := Percentile9999(d.D); !(p <= MaxDuration) {
		return errTooLong(name+": its 99.99th percentile, ", p)
	}
	return nil
}
