// Package planner tracks the availability of one resource type (Planner)
// or of several at once (PlannerMulti) over a time window, as flux-sched's
// planner and planner_multi do: spans of use added and removed, and the
// earliest time a request fits. The Fluxion matcher (package match) keeps
// one per vertex and one aggregate per subtree. It imports nothing of the
// rest of the model.
package planner
