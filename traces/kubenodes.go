package traces

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

func init() {
	register(&Format{
		Name:   "kube-nodes",
		Doc:    "Kubernetes nodes: kubectl get nodes -o json (a List or NodeList, a bare array of nodes, or one Node)",
		Detect: detectKubeNodes,
		Read:   readKubeNodes,
		Write:  writeKubeNodes,
		Ext:    ".json",
	})
}

// kubeNode is a core/v1 Node.
type kubeNode struct {
	Kind     string   `json:"kind"`
	Metadata kubeMeta `json:"metadata"`
	Spec     struct {
		Unschedulable bool `json:"unschedulable"`
		Taints        []struct {
			Key    string `json:"key"`
			Value  string `json:"value"`
			Effect string `json:"effect"`
		} `json:"taints"`
	} `json:"spec"`
	Status struct {
		Allocatable map[string]any  `json:"allocatable"`
		Capacity    map[string]any  `json:"capacity"`
		Conditions  []kubeCondition `json:"conditions"`
	} `json:"status"`
}

func detectKubeNodes(head []byte, _ []string) bool {
	h := sniffKube(head)
	return !h.Watch && (h.ListKind == "NodeList" || (h.Kind == "Node" && h.listOf("NodeList")))
}

func readKubeNodes(in *Input, t *Trace) error {
	index := map[string]int{}
	for i, n := range t.Nodes {
		index[n.Name] = i
	}
	var one kubeNode
	n, err := kubeDoc(in, "a node list", "NodeList", func(s *JSONStream, field string, line int) error {
		if s == nil {
			if one.Kind != "" && one.Kind != "Node" {
				return in.Errorf(1, "kind", "a %s, not a Node", quote(one.Kind))
			}
			return applyKubeNode(t, in, index, &one, line, "")
		}
		var kn kubeNode
		if err := s.Decode(field, &kn); err != nil {
			return err
		}
		if kn.Kind != "" && kn.Kind != "Node" {
			return in.Errorf(line, field+".kind", "a %s in a node list", quote(kn.Kind))
		}
		return applyKubeNode(t, in, index, &kn, line, field+".")
	}, map[string]any{"kind": &one.Kind, "metadata": &one.Metadata, "spec": &one.Spec, "status": &one.Status})
	if err != nil {
		return err
	}
	if n == 0 {
		t.Note("kube-empty-nodes", in.Name, "a node list with no nodes")
	}
	return nil
}

// applyKubeNode adds a node (or replaces the one of the same name read
// before: a later dump).
func applyKubeNode(t *Trace, in *Input, index map[string]int, kn *kubeNode, line int, field string) error {
	m := &kn.Metadata
	if err := kubeValidName(in, line, field+"metadata.name", m.Name, true); err != nil {
		return err
	}
	nd := &Node{Name: m.Name, Labels: m.Labels, Unschedulable: kn.Spec.Unschedulable}
	res := kn.Status.Allocatable
	src := "allocatable"
	if len(res) == 0 && len(kn.Status.Capacity) > 0 {
		res, src = kn.Status.Capacity, "capacity"
		t.Note("kube-node-capacity", m.Name, "nodes without allocatable resources: their capacity is used")
	}
	for _, r := range []struct {
		key   string
		scale int64
		max   float64
		dst   *int64
	}{{"cpu", 1000, kubeMaxMilliCPU, &nd.CPU}, {"memory", 1, kubeMaxBytes, &nd.Memory}, {"nvidia.com/gpu", 1, kubeMaxCount, &nd.GPU}, {"pods", 1, kubeMaxCount, &nd.Pods}} {
		v, ok := res[r.key]
		if !ok {
			continue
		}
		q, err := kubeQuantity(v, r.scale, r.max)
		if err != nil {
			return in.Errorf(line, fmt.Sprintf("%sstatus.%s.%s", field, src, r.key), "%v", err)
		}
		*r.dst = q
	}
	for _, tn := range kn.Spec.Taints {
		s := tn.Key
		if tn.Value != "" {
			s += "=" + tn.Value
		}
		nd.Taints = append(nd.Taints, s+":"+tn.Effect)
	}
	ready := false
	for _, c := range kn.Status.Conditions {
		if c.Type == "Ready" {
			ready = c.Status == "True"
		}
	}
	nd.Ready = ready
	if !ready {
		t.Note("kube-node-not-ready", m.Name, "nodes not Ready when dumped")
	}
	if i, ok := index[nd.Name]; ok {
		t.Nodes[i] = nd
		t.Note("kube-node-twice", nd.Name, "nodes listed more than once: the later listing is kept")
		return nil
	}
	index[nd.Name] = len(t.Nodes)
	t.Nodes = append(t.Nodes, nd)
	return nil
}

// writeKubeNodes writes the trace's nodes as kubectl get nodes -o json
// does (a List), with their allocatable resources (capacity the same),
// labels, taints, cordon and Ready condition.
func writeKubeNodes(w io.Writer, t *Trace) error {
	items := make([]any, 0, len(t.Nodes))
	for _, n := range t.Nodes {
		res := map[string]string{}
		if n.CPU > 0 {
			res["cpu"] = fmt.Sprintf("%dm", n.CPU)
		}
		if n.Memory > 0 {
			res["memory"] = fmt.Sprint(n.Memory)
		}
		if n.GPU > 0 {
			res["nvidia.com/gpu"] = fmt.Sprint(n.GPU)
		}
		if n.Pods > 0 {
			res["pods"] = fmt.Sprint(n.Pods)
		}
		spec := map[string]any{}
		if n.Unschedulable {
			spec["unschedulable"] = true
		}
		var taints []any
		for _, s := range n.Taints {
			taints = append(taints, kubeTaint(s))
		}
		if len(taints) > 0 {
			spec["taints"] = taints
		}
		status := "False"
		if n.Ready {
			status = "True"
		}
		md := map[string]any{"name": n.Name}
		if len(n.Labels) > 0 {
			md["labels"] = n.Labels
		}
		items = append(items, map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": md, "spec": spec,
			"status": map[string]any{"allocatable": res, "capacity": res,
				"conditions": []any{map[string]any{"type": "Ready", "status": status}}}})
	}
	b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items,
		"metadata": map[string]any{"resourceVersion": ""}}, "", "    ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// kubeTaint splits "key=value:Effect" (or "key:Effect").
func kubeTaint(s string) map[string]string {
	m := map[string]string{}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		m["effect"] = s[i+1:]
		s = s[:i]
	}
	if i := strings.IndexByte(s, '='); i >= 0 {
		m["value"] = s[i+1:]
		s = s[:i]
	}
	m["key"] = s
	return m
}
