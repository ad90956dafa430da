//go:build !linux

package report

// replace moves the old report aside and the new one in (replaceInTwo):
// only Linux can exchange two folders atomically.
func (o *Output) replace() error { return o.replaceInTwo() }
