// Package fluxiontest holds the test fixtures that the tests of several
// Fluxion packages share (match and the root package): small generated
// graphs, V1 jobspec requests, the benchmark graphs and jobspecs, and
// engine node lists. It is imported by tests only.
package fluxiontest
