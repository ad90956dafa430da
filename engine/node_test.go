package engine

import (
	"testing"
)

func TestTolerationTolerates(t *testing.T) {
	gpu := Taint{Key: "nvidia.com/gpu", Value: "present", Effect: NoSchedule}
	tests := []struct {
		name string
		tol  Toleration
		want bool
	}{
		// Equal (explicit or default): key, value and effect must match.
		{"equal exact", Toleration{Key: "nvidia.com/gpu", Operator: "Equal", Value: "present", Effect: NoSchedule}, true},
		{"empty operator means Equal", Toleration{Key: "nvidia.com/gpu", Value: "present", Effect: NoSchedule}, true},
		{"equal wrong value", Toleration{Key: "nvidia.com/gpu", Value: "absent", Effect: NoSchedule}, false},
		{"equal empty value vs non-empty", Toleration{Key: "nvidia.com/gpu", Effect: NoSchedule}, false},
		{"wrong key", Toleration{Key: "other", Operator: "Exists"}, false},
		// An empty effect matches every effect.
		{"empty effect matches", Toleration{Key: "nvidia.com/gpu", Value: "present"}, true},
		{"wrong effect", Toleration{Key: "nvidia.com/gpu", Value: "present", Effect: NoExecute}, false},
		{"PreferNoSchedule is not NoSchedule", Toleration{Key: "nvidia.com/gpu", Value: "present", Effect: PreferNoSchedule}, false},
		// Exists ignores the value.
		{"exists with key", Toleration{Key: "nvidia.com/gpu", Operator: "Exists"}, true},
		{"exists ignores value", Toleration{Key: "nvidia.com/gpu", Operator: "Exists", Value: "whatever"}, true},
		{"exists with effect", Toleration{Key: "nvidia.com/gpu", Operator: "Exists", Effect: NoSchedule}, true},
		{"exists wrong effect", Toleration{Key: "nvidia.com/gpu", Operator: "Exists", Effect: NoExecute}, false},
		// Empty key with Exists tolerates everything (of the effect, if set).
		{"exists empty key", Toleration{Operator: "Exists"}, true},
		{"exists empty key, effect", Toleration{Operator: "Exists", Effect: NoSchedule}, true},
		{"exists empty key, other effect", Toleration{Operator: "Exists", Effect: NoExecute}, false},
		// Unknown operators tolerate nothing.
		{"unknown operator", Toleration{Key: "nvidia.com/gpu", Operator: "In", Value: "present"}, false},
		{"operator is case-sensitive", Toleration{Key: "nvidia.com/gpu", Operator: "exists"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tol.Tolerates(gpu); got != tc.want {
				t.Errorf("%+v.Tolerates(%+v) = %v, want %v", tc.tol, gpu, got, tc.want)
			}
		})
	}
	// A taint without a value is matched by Equal with an empty value.
	if !(Toleration{Key: "dedicated", Effect: NoSchedule}).Tolerates(Taint{Key: "dedicated", Effect: NoSchedule}) {
		t.Error("Equal with empty value should tolerate a taint without value")
	}
}

func TestClusterCapacity(t *testing.T) {
	c := &Cluster{Nodes: []*Node{
		{Allocatable: Resources{MilliCPU: 4000, Memory: 8 * GiB, Pods: 110}},
		{Allocatable: Resources{MilliCPU: 2000, Memory: 4 * GiB, GPU: 2, Pods: 110}},
	}}
	if got, want := c.Capacity(), (Resources{6000, 12 * GiB, 2, 220}); got != want {
		t.Errorf("Capacity = %v, want %v", got, want)
	}
}
