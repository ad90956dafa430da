package scenarios

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/engine"
)

// parseQuantity parses a Kubernetes resource quantity ("500m", "2", "1.5",
// "4Gi", "512Mi", "1G", "1e9") and returns its value multiplied by scale,
// which must come out as an integer.
func parseQuantity(s string, scale int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty quantity")
	}
	suffixes := []struct {
		suffix string
		mult   *big.Rat
	}{
		{"Ki", new(big.Rat).SetInt64(1 << 10)}, {"Mi", new(big.Rat).SetInt64(1 << 20)},
		{"Gi", new(big.Rat).SetInt64(1 << 30)}, {"Ti", new(big.Rat).SetInt64(1 << 40)},
		{"Pi", new(big.Rat).SetInt64(1 << 50)}, {"Ei", new(big.Rat).SetInt64(1 << 60)},
		{"m", big.NewRat(1, 1000)}, {"k", new(big.Rat).SetInt64(1e3)},
		{"M", new(big.Rat).SetInt64(1e6)}, {"G", new(big.Rat).SetInt64(1e9)},
		{"T", new(big.Rat).SetInt64(1e12)}, {"P", new(big.Rat).SetInt64(1e15)},
		{"E", new(big.Rat).SetInt64(1e18)},
	}
	num, mult := s, new(big.Rat).SetInt64(1)
	for _, sf := range suffixes {
		if strings.HasSuffix(s, sf.suffix) && !strings.ContainsAny(s[:len(s)-len(sf.suffix)], "eE") {
			num, mult = strings.TrimSuffix(s, sf.suffix), sf.mult
			break
		}
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("cannot parse %q as a quantity (examples: 500m, 2, 4Gi, 1G)", s)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("must not be negative, got %q", s)
	}
	r.Mul(r, mult)
	r.Mul(r, new(big.Rat).SetInt64(scale))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q is finer than the smallest unit", s)
	}
	if r.Num().BitLen() > 62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return r.Num().Int64(), nil
}

// CPU is a CPU quantity in millicores ("500m", "2", 16).
type CPU int64

func (c *CPU) decodeYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return fmt.Errorf("must be a CPU quantity such as 500m or 2")
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
		return fmt.Errorf("must be a byte quantity such as 512Mi or 4Gi")
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

func (d *Dist) decodeYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" && n.Tag != "!!str" {
		var v float64
		if _, err := fmt.Sscanf(n.Value, "%g", &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("must be a number of seconds or a distribution, got %q", n.Value)
		}
		if v < 0 {
			return fmt.Errorf("must not be negative, got %v", v)
		}
		d.D = engine.Const(v)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("must be a number of seconds or a mapping such as {dist: lognormal, median: 0.5, sigma: 0.3}, got %s", kindName(n))
	}
	vals := map[string]float64{}
	name := ""
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if k == "dist" {
			name = v.Value
			continue
		}
		var f float64
		if _, err := fmt.Sscanf(v.Value, "%g", &f); err != nil || v.Kind != yaml.ScalarNode || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s: must be a number, got %s", k, kindName(v))
		}
		if _, dup := vals[k]; dup {
			return fmt.Errorf("%s: duplicate key", k)
		}
		vals[k] = f
	}
	params, ok := distParams[name]
	if !ok {
		return fmt.Errorf("dist: unknown distribution %q (valid: const, exponential, lognormal, normal, uniform)", name)
	}
	for k := range vals {
		if !slices.Contains(params, k) {
			return fmt.Errorf("%s: not a parameter of %s (parameters: %s)", k, name, strings.Join(params, ", "))
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
		d.D = engine.LogNormal{Median: vals["median"], Sigma: vals["sigma"]}
	case "normal":
		d.D = engine.Normal{MeanValue: vals["mean"], StdDev: vals["sd"]}
	}
	return nil
}
