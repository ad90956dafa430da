//go:build !fluxion

package fluence

import "testing"

// TestBackendsSamePlacements is compiled without the fluxion tag only to
// say so in go test -v; the real test is in backend_parity_test.go.
func TestBackendsSamePlacements(t *testing.T) {
	t.Skip("go and reapi backends: build with -tags fluxion and flux-sched's libreapi_cli (see docs/fluxion-reapi.md)")
}
