package scenarios

import (
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/coscheduling"
	"github.com/convergesim/converge/policies/fluence"
	"github.com/convergesim/converge/policies/flux"
	"github.com/convergesim/converge/policies/kube"
)

// Policies are the scheduler models a scenario can name (policy.name),
// each with the configuration sections it registers (policy.<section>).
// A new model is added here and nowhere else in the loader.
var Policies = policies.MustRegistry(
	kube.Registration(),
	coscheduling.Registration(),
	fluence.Registration(),
	flux.Registration(),
)
