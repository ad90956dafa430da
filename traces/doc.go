// Package traces reads and writes what real clusters record, in one
// model (Trace: jobs, pods, nodes and notes) and one convention (Input:
// gzip-transparent, streaming, a limit per record, errors naming file,
// line and field; Format: a detector, a reader and a writer, registered
// by name). It also turns a simulated run into a Trace (FromResult) and
// compares a replay with the recorded run (Compare), and reads the
// measurement tables the calibrations use (pod-times.csv, pull times)
// and what the network benchmarks print (iperf3 -J, OSU output and
// tables, ping: measurement.go) and the applications record (LAMMPS
// logs, lammps-stream-ml results, the operator-bootstrap table:
// apps.go); not trace formats.
package traces
