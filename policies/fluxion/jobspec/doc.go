// Package jobspec reads and writes jobspecs for the Fluxion model: RFC 14
// (version 1) and RFC 25 (version 9999) documents, and the loose shapes
// Fluence sends, into a tree of Resource requests with counts (Jobspec,
// ParseJobspec), with errors that name the field and line. It imports
// nothing of the rest of the model.
package jobspec
