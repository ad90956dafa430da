// Package policies is the registry of scheduler models. Each model (a
// sub-package: kube, the default kube-scheduler; later Coscheduling,
// Fluence, Flux) describes itself with a Registration: its names, the
// configuration sections it owns (policy.<section> in a scenario, each
// decoded into the model's own type with its defaults and validation)
// and its factory. The composition root builds the Registry from the
// registrations; nothing here knows the models.
package policies
