//go:build !fluxion

package fluxion

import "testing"

// TestReapiParity is compiled without the fluxion tag only to say so in
// go test -v; the real test is in reapi_parity_test.go.
func TestReapiParity(t *testing.T) {
	t.Skip("reapi parity: build with -tags fluxion (see docs/fluxion-reapi.md)")
}
