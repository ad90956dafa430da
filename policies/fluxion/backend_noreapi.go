//go:build !fluxion

package fluxion

import (
	"github.com/convergesim/converge/policies/fluxion/match"
)

// ReapiAvailable reports whether this build has the cgo backend over
// flux-sched's libreapi_cli (built with -tags fluxion).
const ReapiAvailable = false

func openReapi(graphJGF []byte, opt match.MatcherOptions) (Backend, error) {
	return nil, ErrBackendUnavailable
}
