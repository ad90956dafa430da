//go:build !fluxion

package fluxion

// ReapiAvailable reports whether this build has the cgo backend over
// flux-sched's libreapi_cli (built with -tags fluxion).
const ReapiAvailable = false

func openReapi(graphJGF []byte, opt MatcherOptions) (Backend, error) {
	return nil, ErrBackendUnavailable
}
