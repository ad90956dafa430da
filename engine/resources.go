package engine

import "fmt"

// Resources is an amount of node resources in integer units.
type Resources struct {
	MilliCPU int64 // millicores
	Memory   int64 // bytes
	GPU      int64 // devices (nvidia.com/gpu)
	Pods     int64 // pod slots
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{r.MilliCPU + o.MilliCPU, r.Memory + o.Memory, r.GPU + o.GPU, r.Pods + o.Pods}
}

// Sub returns r - o.
func (r Resources) Sub(o Resources) Resources {
	return Resources{r.MilliCPU - o.MilliCPU, r.Memory - o.Memory, r.GPU - o.GPU, r.Pods - o.Pods}
}

// LessEqual reports whether every component of r is at most the one of o.
func (r Resources) LessEqual(o Resources) bool {
	return r.MilliCPU <= o.MilliCPU && r.Memory <= o.Memory && r.GPU <= o.GPU && r.Pods <= o.Pods
}

// IsZero reports whether all components are zero.
func (r Resources) IsZero() bool { return r == Resources{} }

func (r Resources) String() string {
	return fmt.Sprintf("cpu=%dm memory=%d gpu=%d pods=%d", r.MilliCPU, r.Memory, r.GPU, r.Pods)
}

// Units used throughout.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
)

// Kubernetes defaults for containers that request nothing, used by the
// scoring plugins (GetNonzeroRequestForResource): 100 mCPU and 200 MiB.
const (
	DefaultMilliCPURequest int64 = 100
	DefaultMemoryRequest   int64 = 200 * MiB
)
