package traces

// The names real systems record for the scheduler that placed a pod or
// a job (a pod's spec.schedulerName, a Flux job's), and the policy of
// converge that models each. A simulated run is written with the real
// name of its policy's scheduler, so that a replay of it knows which
// policy produced it.
var (
	schedulerPolicy = map[string]string{
		"default-scheduler":           "kube",
		"kubeflux":                    "fluence", // Fluence's name in the CANOPIE-22 runs
		"fluence":                     "fluence",
		"scheduler-plugins-scheduler": "coscheduling",
		"flux":                        "flux",
	}
	policyScheduler = map[string]string{
		"kube":         "default-scheduler",
		"fluence":      "fluence",
		"coscheduling": "scheduler-plugins-scheduler",
		"flux":         "flux",
	}
)

// PolicyOf is the policy that models the scheduler a trace names ("" when
// none does).
func PolicyOf(scheduler string) string { return schedulerPolicy[scheduler] }

// SchedulerOf is the name the real system records for the scheduler a
// policy models (the policy's own name when there is none).
func SchedulerOf(policy string) string {
	if s, ok := policyScheduler[policy]; ok {
		return s
	}
	return policy
}
