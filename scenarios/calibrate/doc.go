// Package calibrate compares the simulator's models with the measurements
// in ../shared/data and fits their parameters with gonum: here, the
// node-agent start-up model against the pod start-up timing study.
package calibrate
