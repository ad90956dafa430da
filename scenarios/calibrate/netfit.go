package calibrate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/traces"
)

// AddNetworkMeasurement reads one measurement file (its bytes as stored,
// data, named path) with the measurement readers of traces and adds what
// it measured to a network fit's input: an OSU latency or bandwidth
// series as network.Points in SI units, each iperf3 run as a
// network.BulkRun. experiment selects one experiment of an OSU table (a
// table with several needs one; for standard output it is a label). The
// input's provenance keeps the path, the SHA-256 of data, the format,
// the kind, the experiment and the tool.
func AddNetworkMeasurement(in *network.FitInput, path string, data []byte, experiment string) error {
	m, err := traces.ReadMeasurement(path, data)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	file := network.InputFile{Path: path, SHA256: hex.EncodeToString(sum[:]), Format: m.Format}
	if m.OSU != nil {
		return addOSU(in, file, m.OSU, experiment)
	}
	for _, r := range m.Iperf {
		rates, seconds := r.IntervalRates()
		file.Tool = r.Version
		run := network.BulkRun{Streams: r.NumStreams, Rates: rates, Seconds: seconds, MinRTT: r.MinRTT(), PMTU: r.PMTU(), CPUPerByte: r.CPUPerByte()}
		if err := in.AddBulk(file, run); err != nil {
			return err
		}
	}
	return nil
}

// addOSU adds the samples of one experiment of an OSU result: osu_latency
// microseconds as seconds, osu_bw MB/s (10^6 bytes per second) as bytes
// per second.
func addOSU(in *network.FitInput, file network.InputFile, r *traces.OSUResult, experiment string) error {
	samples, experiment, err := r.SelectExperiment(experiment)
	if err != nil {
		return err
	}
	var scale float64
	switch r.Kind {
	case traces.OSULatency:
		file.Kind, scale = network.KindLatency, 1e-6
	case traces.OSUBandwidth:
		file.Kind, scale = network.KindBandwidth, 1e6
	default:
		return &traces.InputError{File: r.Name, Msg: fmt.Sprintf("unknown OSU kind %q", r.Kind)}
	}
	file.Experiment = experiment
	file.Tool = r.Title
	points := make([]network.Point, len(samples))
	for i, s := range samples {
		points[i] = network.Point{Size: s.Size, Value: s.Value * scale, Line: s.Line}
	}
	return in.AddSeries(file, points)
}
