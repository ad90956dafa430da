// Package traces reads and writes the formats real clusters and
// experiments record, and turns them into things the simulator can compare
// against.
package traces
