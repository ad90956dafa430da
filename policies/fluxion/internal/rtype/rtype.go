// Package rtype holds what the Fluxion packages share about resource
// type names.
package rtype

// Canonical returns the program's own copy of a common resource type name
// (identical string constants share one copy), so that comparing a type
// read in one place with one read in another (graph vertices against
// jobspec resources, a search's hottest comparison) finds equal pointers
// at once.
func Canonical(s string) string {
	switch s {
	case "cluster":
		return "cluster"
	case "rack":
		return "rack"
	case "subnet":
		return "subnet"
	case "node":
		return "node"
	case "socket":
		return "socket"
	case "core":
		return "core"
	case "gpu":
		return "gpu"
	case "memory":
		return "memory"
	case "slot":
		return "slot"
	}
	return s
}
