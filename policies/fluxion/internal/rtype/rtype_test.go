package rtype

import (
	"strings"
	"testing"
	"unsafe"
)

// TestCanonical: a common type name read at run time comes back as one
// shared copy; any other name comes back unchanged.
func TestCanonical(t *testing.T) {
	for _, name := range []string{"node", "core", "gpu", "socket", "slot", "memory", "cluster", "rack", "subnet"} {
		a := Canonical(strings.Clone(name))
		b := Canonical(strings.Clone(name))
		if a != name || unsafe.StringData(a) != unsafe.StringData(b) {
			t.Errorf("%s: not one shared copy", name)
		}
	}
	if got := Canonical("fpga"); got != "fpga" {
		t.Errorf("fpga: %q", got)
	}
}
