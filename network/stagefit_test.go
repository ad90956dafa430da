package network_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/convergesim/converge/network"
)

// TestFitStageCostRecovers: rates generated from known costs give the
// costs back, and the rates back exactly.
func TestFitStageCostRecovers(t *testing.T) {
	const perPacket, perByte = 30e-6, 5e-9
	var runs []network.StageRun
	for _, s := range []int{1500, 9000, 65520} {
		runs = append(runs, network.StageRun{PacketSize: s, Rate: float64(s-40) / (perPacket + float64(s)*perByte), Source: "synthetic"})
	}
	f, err := network.FitStageCost(runs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.PerPacket-perPacket) > 1e-12 || math.Abs(f.PerByte-perByte) > 1e-15 {
		t.Errorf("fit = %g s/packet, %g s/B; want %g, %g", f.PerPacket, f.PerByte, perPacket, perByte)
	}
	for i, e := range f.RateError {
		if math.Abs(e) > 1e-9 {
			t.Errorf("run %d: rate error %g", i, e)
		}
	}
	// The fitted stage caps a profile's stream rate at the same rate.
	p := &network.Profile{Name: "p", Bands: []network.Band{{Latency: 1e-5, Bandwidth: 1e12}},
		Stages: []network.Stage{{Name: "slirp", MTU: 1500, PerPacket: f.PerPacket, PerByte: f.PerByte}}}
	if got, want := p.Bandwidth(1<<20), runs[0].Rate; math.Abs(got-want)/want > 1e-9 {
		t.Errorf("profile bandwidth through the stage = %g, want %g", got, want)
	}
}

// TestFitStageCostNonNegative: a line with a negative intercept is
// refitted through the origin.
func TestFitStageCostNonNegative(t *testing.T) {
	// y = s·1e-9 − 1e-6 at two sizes: intercept negative.
	runs := []network.StageRun{
		{PacketSize: 1500, Rate: 1460 / (1500e-9 - 1e-6)},
		{PacketSize: 65520, Rate: 65480 / (65520e-9 - 1e-6)},
	}
	f, err := network.FitStageCost(runs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.PerPacket != 0 || !(f.PerByte > 0) {
		t.Errorf("fit = %g, %g; want perPacket 0 and a positive perByte", f.PerPacket, f.PerByte)
	}
}

func TestFitStageCostErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		runs []network.StageRun
		hdr  int
		want string
	}{
		{"one run", []network.StageRun{{PacketSize: 1500, Rate: 1e8}}, 0, "need rates at two or more packet sizes"},
		{"one size", []network.StageRun{{PacketSize: 1500, Rate: 1e8}, {PacketSize: 1500, Rate: 2e8}}, 0, "need two or more packet sizes"},
		{"no payload", []network.StageRun{{PacketSize: 60, Rate: 1e8, Source: "a.json"}, {PacketSize: 1500, Rate: 1e8}}, 20, "a.json: packets of 60 bytes carry no payload"},
		{"zero rate", []network.StageRun{{PacketSize: 1500, Rate: 0, Source: "b.json"}, {PacketSize: 9000, Rate: 1e8}}, 0, "b.json: rate 0 B/s must be positive"},
	} {
		_, err := network.FitStageCost(c.runs, c.hdr)
		if err == nil || !errors.Is(err, network.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
