// Package calibrate compares the simulator's models with the measurements
// in ../shared/data and fits their parameters with gonum: the node-agent
// start-up model against the pod start-up timing study (podstartup.go) and
// its image pulls against per-node pull durations of the performance study
// (pulls.go).
package calibrate
