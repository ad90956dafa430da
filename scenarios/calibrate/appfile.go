package calibrate

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/workloads/apps"
)

// appDescriptions head the parameter files.
var appDescriptions = map[string]string{
	"lammps":  "LAMMPS ReaxFF (HNS benchmark): per-atom costs of the force field and the charge equilibration, its CG iterations and start-up, per machine (workloads/apps/lammps.go).",
	"amg":     "AMG (27-point Laplacian, AMG-PCG): per-row compute and memory traffic of each stage, its collectives, convergence and start-up (workloads/apps/amg.go).",
	"qmcpack": "QMCPACK (batched VMC/DMC): initialisation, per-step and per-walker costs (workloads/apps/qmcpack.go).",
}

// WithFit returns base (nil: a new file for app) with fit in place of
// the fit of the same name, or appended; base is not modified.
func WithFit(base *apps.File, app string, fit *apps.Fit) (*apps.File, error) {
	f := &apps.File{Kind: "AppModel", Version: 1, App: app, Description: appDescriptions[app]}
	if base != nil {
		if base.App != app {
			return nil, fmt.Errorf("the file holds the %s model, not %s", base.App, app)
		}
		c := *base
		c.Fits = append([]apps.Fit(nil), base.Fits...)
		f = &c
	}
	for i := range f.Fits {
		if f.Fits[i].Name == fit.Name {
			f.Fits[i] = *fit
			return f, nil
		}
	}
	f.Fits = append(f.Fits, *fit)
	return f, nil
}

// RenderAppFile renders an AppModel file with its header comment; the
// result is checked by loading it back with the strict loader (name
// names it in errors).
func RenderAppFile(name string, f *apps.File) ([]byte, error) {
	return renderParamFile("# Application model parameters (workloads/apps), fitted to ../shared/data by\n"+
		"# sim fit app (scenarios/calibrate); regenerate with the command in each fit's\n"+
		"# provenance. inSampleMAPE is the error on the runs fitted; heldOut is the\n"+
		"# error of predicting runs left out of the fit (docs/validation.md).\n", f,
		func(b []byte) error { _, err := scenarios.ParseAppModel(name, b); return err })
}

// renderParamFile renders a parameter file (header, then v as YAML
// with residuals and spreads on one line each) and checks that it loads
// back (load: the strict loader of its kind).
func renderParamFile(header string, v any, load func([]byte) error) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	var doc yaml.Node
	if err := doc.Encode(v); err != nil {
		return nil, err
	}
	flowResiduals(&doc)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if err := load(b.Bytes()); err != nil {
		return nil, fmt.Errorf("the rendered file does not load: %w", err)
	}
	return b.Bytes(), nil
}

// flowResiduals writes each residual and each parameter spread on one
// line.
func flowResiduals(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "inSampleResiduals", "parameters", "baselines":
				if n.Content[i+1].Kind == yaml.SequenceNode {
					for _, r := range n.Content[i+1].Content {
						if r.Kind == yaml.MappingNode {
							r.Style = yaml.FlowStyle
						}
					}
				}
			}
		}
	}
	for _, c := range n.Content {
		flowResiduals(c)
	}
}
