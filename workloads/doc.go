// Package workloads describes what runs: job shapes (bare pods, Jobs,
// Indexed Jobs) with their pod templates and run-time distributions, and
// the arrival generators that decide when jobs are submitted.
package workloads
