// Package workloads holds what runs: the arrival generators that decide
// when jobs are submitted, and (workloads/apps) the application models
// that turn a placement into run time. Job shapes and pod templates are
// engine types (engine.Job, engine.PodTemplate), filled in by scenarios.
package workloads
