// Package policies is the registry of scheduler models: a name (or alias)
// maps to a Factory that builds an engine.Policy from the scenario's
// settings. The models live in sub-packages (kube: the default
// kube-scheduler).
package policies
