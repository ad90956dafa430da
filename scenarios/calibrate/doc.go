// Package calibrate compares the simulator's models with the measurements
// in ../shared/data and fits their parameters with gonum: the node-agent
// start-up model against the pod start-up timing study (podstartup.go), its
// image pulls against per-node pull durations of the performance study
// (pulls.go), and the application models of workloads/apps against
// flux-usernetes-aws, canopie22-scaling and lammps-stream-ml (appdata.go
// reads the logs and archives, appfit.go fits and reports, apps_test.go
// holds one test per data set and the -refitapps refit that rewrites
// scenarios/apps).
package calibrate
