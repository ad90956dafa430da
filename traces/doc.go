// Package traces reads the measurement tables the calibrations use: the
// per-pod start-up times of the pod start-up study (pod-times.csv) and the
// per-node image pull times of the performance study. Readers of recorded
// cluster traces (kubectl dumps, events, Flux job records, SWF), writers,
// and replay come with a later issue.
package traces
