// Package scenarios is the scenario schema (version 1), its strict loader
// (YAML with line numbers, overrides from --set flags and SIM_ environment
// variables), validation with field paths, the size estimate checked
// before anything is built (Estimate, CheckSize), and the composition
// root that wires cluster, start-up model, workloads and policy into an
// engine run. The bundled scenario files live here too.
package scenarios
