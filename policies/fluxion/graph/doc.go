// Package graph is the resource graph of the Fluxion model: typed vertices
// (Vertex, VertexID) in a containment tree with up/down status, read and
// written as JGF (ReadJGF, WriteJGF; Fluxion's and Fluence's layouts), or
// generated from a scenario's cluster (FromNodes, Fluence). It does not
// know about matching: package match builds its planners over a Graph.
package graph
