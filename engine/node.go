package engine

// TaintEffect is the effect of a node taint.
type TaintEffect string

// Taint effects as in the Kubernetes API.
const (
	NoSchedule       TaintEffect = "NoSchedule"
	PreferNoSchedule TaintEffect = "PreferNoSchedule"
	NoExecute        TaintEffect = "NoExecute"
)

// Taint is a node taint.
type Taint struct {
	Key    string      `json:"key"`
	Value  string      `json:"value,omitempty"`
	Effect TaintEffect `json:"effect"`
}

// Toleration is a pod toleration. Operator is "Equal" (default) or "Exists".
// An empty Effect matches every effect; an empty Key with Exists matches every taint.
type Toleration struct {
	Key      string      `json:"key,omitempty"`
	Operator string      `json:"operator,omitempty"`
	Value    string      `json:"value,omitempty"`
	Effect   TaintEffect `json:"effect,omitempty"`
}

// Tolerates reports whether the toleration tolerates the taint
// (k8s.io/api/core/v1 Toleration.ToleratesTaint).
func (t Toleration) Tolerates(taint Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case "Exists":
		return true
	case "", "Equal":
		return t.Value == taint.Value
	}
	return false
}

// Well-known node labels.
const (
	LabelHostname     = "kubernetes.io/hostname"
	LabelZone         = "topology.kubernetes.io/zone"
	LabelControlPlane = "node-role.kubernetes.io/control-plane" // also the taint kubeadm puts on it
)

// imageState is a node's knowledge of one container image.
type imageState uint8

const (
	imageAbsent imageState = iota
	imagePulling
	imagePresent
)

// Node is one schedulable machine. Allocatable and the static fields are set
// when the cluster is built; Requested, NonZeroRequested, PodCount and the
// image cache are maintained by the engine only.
type Node struct {
	Index         int               // position in Cluster.Nodes
	Name          string            // metadata.name
	Pool          string            // the node pool it came from
	Zone          string            // topology.kubernetes.io/zone ("" if none)
	Rack          string            // rack or other topology domain ("" if none)
	Labels        map[string]string // includes hostname and zone labels
	Taints        []Taint
	Unschedulable bool      // spec.unschedulable (cordoned)
	Allocatable   Resources // status.allocatable; Pods = max pods
	// Host is the machine a node of a nested cluster runs on (a
	// Usernetes node on the bare-metal node Flux gave it): they share
	// its CPU, memory bandwidth and NIC. Nil: the node is a machine.
	Host *Node
	// Nested marks a node of a nested cluster (never a machine itself;
	// Host says which machine it runs on once it is up).
	Nested bool

	// Requested is the sum of the real requests of pods assigned here
	// (assumed or bound, not yet finished). Requested.Pods counts them.
	Requested Resources
	// NonZeroRequested is the same sum with the scoring defaults for
	// containers that request no cpu or memory.
	NonZeroRequested Resources

	// Preloaded are the images on the node when the run starts (name →
	// bytes): pulled before, as on nodes that ran the same workload.
	Preloaded map[string]int64

	images map[string]imageState
	// ImageSizes of the images present on the node (name → bytes),
	// maintained by the engine; read by ImageLocality.
	imageSizes map[string]int64

	kubelet kubeletState
}

// HostIndex is the index of the machine the node runs on.
func (n *Node) HostIndex() int {
	if n.Host != nil {
		return n.Host.Index
	}
	return n.Index
}

// Sub returns a view of the cluster with only nodes (for a policy that
// schedules a part of the machines, such as Kubernetes inside what Flux
// gave it). The nodes keep their Index: a view is only for a prefix of
// Cluster.Nodes, so that Index stays a position in it, or for a policy
// that does not use Index.
func (c *Cluster) Sub(nodes []*Node) *Cluster {
	return &Cluster{Nodes: nodes, imageNodes: c.imageNodes, quietUntil: c.quietUntil}
}

// Free returns Allocatable − Requested.
func (n *Node) Free() Resources { return n.Allocatable.Sub(n.Requested) }

// HasImage reports whether the image is present on the node, and its size.
func (n *Node) HasImage(name string) (int64, bool) {
	if n.images[name] != imagePresent {
		return 0, false
	}
	return n.imageSizes[name], true
}

// Cluster is the set of nodes. Policies read it; only the engine changes it.
type Cluster struct {
	Nodes []*Node
	// imagesOnNodes counts, per image, the nodes where it is present
	// (ImageLocality's spread factor).
	imageNodes map[string]int
	quietUntil float64
}

// QuietUntil tells a policy, during Decide, until when nothing but its
// own decisions can happen: no engine event (a pod created, bound or
// finished, a timer) and no end of the run comes before this time. A
// policy that would spend that time on scheduling attempts that fail
// whatever it does may make them all in this Decide, each an
// Unschedulable decision with At its own time (now ≤ At < QuietUntil),
// instead of one per timer: the outcome is the same. It returns the
// current time when the engine cannot promise anything (simgo processes
// are running).
func (c *Cluster) QuietUntil() float64 { return c.quietUntil }

// NodesWithImage returns on how many nodes the image is present.
func (c *Cluster) NodesWithImage(name string) int { return c.imageNodes[name] }

// Capacity returns the sum of allocatable resources over the machines
// (a nested cluster's nodes are parts of them).
func (c *Cluster) Capacity() Resources {
	var r Resources
	for _, n := range c.Nodes {
		if !n.Nested { // a nested cluster's nodes are parts of machines
			r = r.Add(n.Allocatable)
		}
	}
	return r
}
