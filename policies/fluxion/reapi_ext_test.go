//go:build fluxion

package fluxion

import (
	"testing"

	"github.com/convergesim/converge/policies/fluxion/match"
)

// TestReapiBackendExt runs backendExtCheck (UpdateAllocate,
// PartialCancel, SetStatus) against flux-sched's libreapi_cli.
func TestReapiBackendExt(t *testing.T) {
	backendExtCheck(t, func(jgf []byte, opt match.MatcherOptions) (Backend, error) {
		return OpenBackend(BackendReapi, jgf, opt)
	})
}
