package network

import (
	"fmt"
	"math"
)

// StageRun is one measured single-stream rate through a stage: the
// packet size the stage handled and the application payload rate.
type StageRun struct {
	PacketSize int     // bytes per packet at the stage (its MTU)
	Rate       float64 // payload bytes per second
	Source     string  // where it was measured (a file name)
}

// StageCostFit is a stage's fitted serial cost and how well it
// reproduces the runs it came from.
type StageCostFit struct {
	PerPacket float64 // seconds per packet
	PerByte   float64 // seconds per byte of packet
	// RateError is (model − measured)/measured for each run, in order.
	RateError []float64
}

// FitStageCost fits the serial cost of a stage that handles one packet
// at a time to rates measured through it at different packet sizes:
// a packet of s bytes carries s − 40 − headerBytes bytes of payload and
// takes perPacket + s·perByte, so
//
//	(s − 40 − headerBytes)/rate = perPacket + s·perByte,
//
// a straight line in s, fitted by least squares. Both costs are kept
// non-negative (a negative one is set to 0 and the other refitted).
// At least two distinct packet sizes are needed.
func FitStageCost(runs []StageRun, headerBytes int) (StageCostFit, error) {
	var f StageCostFit
	if len(runs) < 2 {
		return f, fmt.Errorf("%w: stage fit: %d run(s); need rates at two or more packet sizes", ErrInvalid, len(runs))
	}
	xs := make([]float64, len(runs))
	ys := make([]float64, len(runs))
	distinct := map[int]bool{}
	for i, r := range runs {
		payload := float64(r.PacketSize - TCPIPHeaderBytes - headerBytes)
		switch {
		case payload <= 0:
			return f, fmt.Errorf("%w: stage fit: %s: packets of %d bytes carry no payload after %d header bytes", ErrInvalid, r.Source, r.PacketSize, TCPIPHeaderBytes+headerBytes)
		case !(r.Rate > 0) || math.IsInf(r.Rate, 0):
			return f, fmt.Errorf("%w: stage fit: %s: rate %g B/s must be positive and finite", ErrInvalid, r.Source, r.Rate)
		}
		xs[i] = float64(r.PacketSize)
		ys[i] = payload / r.Rate
		distinct[r.PacketSize] = true
	}
	if len(distinct) < 2 {
		return f, fmt.Errorf("%w: stage fit: every run has packets of %d bytes; need two or more packet sizes", ErrInvalid, runs[0].PacketSize)
	}
	// Ordinary least squares of y = a + b·x.
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	b := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a := (sy - b*sx) / n
	switch {
	case b < 0:
		b, a = 0, sy/n
	case a < 0:
		a, b = 0, sxy/sxx
	}
	f.PerPacket, f.PerByte = a, b
	for i, r := range runs {
		model := float64(r.PacketSize-TCPIPHeaderBytes-headerBytes) / (a + b*xs[i])
		f.RateError = append(f.RateError, (model-r.Rate)/r.Rate)
	}
	return f, nil
}
