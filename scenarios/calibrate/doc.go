// Package calibrate fits the simulator's models to the measurements in
// ../shared/data and says how well they fit and how well they predict:
// the node-agent start-up model against the pod start-up timing study
// (podstartup.go) and its image pulls against per-node pull durations of
// the performance study (pulls.go), both fitted and cross-validated in
// startupfit.go and written into their scenarios by scenariofile.go; the
// application models of workloads/apps against flux-usernetes-aws,
// canopie22-scaling and lammps-stream-ml (read by the traces package's
// application readers; appdata.go is the calibration's view of the
// canopie22 archives, appproblems.go defines each fit — untouched start values,
// knobs, folds, baselines, procedures — appfit.go fits with several
// starting points and measures each parameter's spread, crossval.go
// holds data out and compares with naive baselines, appfile.go writes
// scenarios/apps); and the Usernetes network stages against this
// project's own measurements (usernetes.go).
//
// The commands are sim fit app, sim fit startup and sim fit stages
// (cmd/sim); the tests only check: the bundled parameters' in-sample
// error and provenance, and the held-out error of each procedure in its
// cheaper CI form (docs/validation.md).
package calibrate
