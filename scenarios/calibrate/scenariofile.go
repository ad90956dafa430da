package calibrate

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/scenarios"
)

// ScenarioEdit is one value a fit writes into a scenario file: a field
// path (startup.sandbox) and its new YAML value, either a scalar or a
// log-normal distribution.
type ScenarioEdit struct {
	Path string
	// Scalar is written as is (a number or a quantity such as 219Mi);
	// Text as a folded string; otherwise LogNormal.
	Scalar    string
	Text      string
	LogNormal *[2]float64 // median, sigma
}

// EditScenario returns the scenario file data with the edits applied.
// Each value is replaced in place in the text, so comments, blank lines
// and layout stay as they were; when a field is missing (or its value
// spans lines in a way the text edit does not handle) the file is
// re-encoded from its YAML tree instead (comments kept, layout not). The
// result is checked by loading it with the strict loader; name names the
// file in errors.
func EditScenario(name string, data []byte, edits []ScenarioEdit) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a scenario (a YAML mapping)", name)
	}
	out, ok := editText(root.Content[0], data, edits)
	if !ok {
		var err error
		if out, err = editTree(&root, edits); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if _, err := scenarios.Parse(name, out, scenarios.Overrides{IgnoreEnv: true}); err != nil {
		return nil, fmt.Errorf("the fitted scenario does not load: %w", err)
	}
	return out, nil
}

// render is an edit's value as YAML text for a value starting at column
// col of a line whose key is indented by indent.
func (e ScenarioEdit) render(indent int) string {
	switch {
	case e.Text != "":
		return ">\n" + wrap(e.Text, strings.Repeat(" ", indent+2), 78)
	case e.LogNormal != nil:
		return fmt.Sprintf("{dist: lognormal, median: %s, sigma: %s}", num(e.LogNormal[0]), num(e.LogNormal[1]))
	}
	return e.Scalar
}

// wrap folds text into lines of at most width columns after prefix
// (a folded block scalar reads them back as the same text).
func wrap(text, prefix string, width int) string {
	var b strings.Builder
	line := prefix
	for _, w := range strings.Fields(text) {
		if len(line) > len(prefix) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = prefix
		}
		if len(line) > len(prefix) {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String()
}

// editText replaces each edited value in the text: a one-line scalar or
// flow mapping after its key, or a block scalar (its following, more
// indented lines). ok is false when an edit cannot be made that way.
func editText(doc *yaml.Node, data []byte, edits []ScenarioEdit) ([]byte, bool) {
	lines := strings.SplitAfter(string(data), "\n")
	type span struct {
		line, col, endLine, endCol int // 0-based; end exclusive (endCol on endLine)
		text                       string
	}
	var spans []span
	for _, e := range edits {
		k, v := lookup(doc, strings.Split(e.Path, "."))
		if k == nil || v.Line != k.Line || v.Line < 1 || v.Line > len(lines) {
			return nil, false
		}
		l := lines[v.Line-1]
		col := v.Column - 1
		sp := span{line: v.Line - 1, col: col, endLine: v.Line - 1, text: e.render(k.Column - 1)}
		switch {
		case v.Kind == yaml.ScalarNode && (v.Style == yaml.FoldedStyle || v.Style == yaml.LiteralStyle):
			if e.Text == "" {
				return nil, false
			}
			end := v.Line // the first line after the block
			for end < len(lines) && (strings.TrimSpace(lines[end]) == "" || indentOf(lines[end]) > k.Column-1) {
				end++
			}
			for end > v.Line && strings.TrimSpace(lines[end-1]) == "" { // keep blank lines after the block
				end--
			}
			sp.endLine, sp.endCol = end, 0
		case v.Kind == yaml.ScalarNode && v.Style == 0 && e.Text == "":
			rest := l[col:]
			n := len(rest)
			if i := strings.Index(rest, " #"); i >= 0 {
				n = i
			}
			sp.endCol = col + len(strings.TrimRight(rest[:n], " \t\r\n"))
			if sp.endCol-col != len(v.Value) {
				return nil, false
			}
		case v.Kind == yaml.MappingNode && v.Style == yaml.FlowStyle && e.Text == "":
			i := strings.IndexByte(l[col:], '}')
			if i < 0 || strings.Contains(l[col:col+i], "{") && strings.Count(l[col:col+i], "{") > 1 {
				return nil, false
			}
			sp.endCol = col + i + 1
		default:
			return nil, false
		}
		spans = append(spans, sp)
	}
	// Apply from the end of the file so earlier positions stay valid.
	slices.SortFunc(spans, func(a, b span) int {
		if a.line != b.line {
			return b.line - a.line
		}
		return b.col - a.col
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].endLine > spans[i-1].line || (spans[i].endLine == spans[i-1].line && spans[i].endCol > spans[i-1].col) {
			return nil, false // overlapping edits
		}
	}
	for _, sp := range spans {
		var tail string
		if sp.endLine < len(lines) {
			tail = lines[sp.endLine][sp.endCol:]
		}
		if sp.endCol == 0 && sp.endLine > sp.line {
			tail = "" // a block scalar: the replacement ends with its own newline
			head := lines[sp.line][:sp.col]
			repl := strings.Split(strings.TrimSuffix(head+sp.text, "\n"), "\n")
			for i := range repl {
				repl[i] += "\n"
			}
			lines = slices.Concat(lines[:sp.line], repl, lines[sp.endLine:])
			continue
		}
		lines[sp.line] = lines[sp.line][:sp.col] + sp.text + tail
		if sp.endLine > sp.line {
			lines = slices.Delete(lines, sp.line+1, sp.endLine+1)
		}
	}
	return []byte(strings.Join(lines, "")), true
}

func indentOf(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

// lookup finds the key and value nodes at path (nil if absent).
func lookup(m *yaml.Node, path []string) (*yaml.Node, *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == path[0] {
			if len(path) == 1 {
				return m.Content[i], m.Content[i+1]
			}
			return lookup(m.Content[i+1], path[1:])
		}
	}
	return nil, nil
}

// editTree applies the edits to the YAML tree (adding missing fields)
// and encodes it.
func editTree(root *yaml.Node, edits []ScenarioEdit) ([]byte, error) {
	for _, e := range edits {
		n, err := field(root.Content[0], strings.Split(e.Path, "."))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Path, err)
		}
		comment := n.LineComment
		switch {
		case e.Text != "":
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.Text, Style: yaml.FoldedStyle}
		case e.LogNormal != nil:
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Content: []*yaml.Node{
				scalar("dist", "!!str"), scalar("lognormal", "!!str"),
				scalar("median", "!!str"), scalar(num(e.LogNormal[0]), "!!float"),
				scalar("sigma", "!!str"), scalar(num(e.LogNormal[1]), "!!float"),
			}}
		default:
			*n = yaml.Node{Kind: yaml.ScalarNode, Value: e.Scalar}
		}
		n.LineComment = comment
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func scalar(v, tag string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v} }

// num formats a fitted value with four significant figures.
func num(v float64) string { return strconv.FormatFloat(round4(v), 'g', -1, 64) }

// field finds (or adds) the value node at path under the mapping m.
func field(m *yaml.Node, path []string) (*yaml.Node, error) {
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: not a mapping", m.Line)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == path[0] {
			if len(path) == 1 {
				return m.Content[i+1], nil
			}
			return field(m.Content[i+1], path[1:])
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, scalar(path[0], "!!str"), v)
	if len(path) == 1 {
		return v, nil
	}
	return field(v, path[1:])
}

// PodStartupEdits are the fitted start-up parameters as edits of a
// scenario whose distributions keep base's sigmas.
func PodStartupEdits(base *scenarios.Scenario, p Params, provenance string) []ScenarioEdit {
	ln := func(median, sigma float64) *[2]float64 { return &[2]float64{median, sigma} }
	return []ScenarioEdit{
		{Path: "startup.provenance", Text: provenance},
		{Path: "startup.syncDelay", LogNormal: ln(p.SyncDelay, sigmaOf(base.Startup.SyncDelay, 0.8))},
		{Path: "startup.sandbox", LogNormal: ln(p.Sandbox, sigmaOf(base.Startup.Sandbox, 0.3))},
		{Path: "startup.manifestCheck", LogNormal: ln(p.ManifestCheck, sigmaOf(base.Startup.ManifestCheck, 0.3))},
		{Path: "controllers.clientQPS", Scalar: num(p.ClientQPS)},
		{Path: "controllers.clientBurst", Scalar: "1"},
		{Path: "controllers.createLatency", LogNormal: ln(p.CreateLatency, sigmaOf(base.Controllers.CreateLatency, 0.5))},
	}
}

// PullEdits are the fitted pull parameters as edits.
func PullEdits(base *scenarios.Scenario, p PullParams, provenance string) []ScenarioEdit {
	mi := func(v float64) string { return fmt.Sprintf("%.0fMi", v/(1<<20)) }
	return []ScenarioEdit{
		{Path: "startup.provenance", Text: provenance},
		{Path: "startup.registryBandwidth", Scalar: mi(p.RegistryBandwidth)},
		{Path: "startup.nodeBandwidth", Scalar: mi(p.NodeBandwidth)},
		{Path: "startup.pullOverhead", LogNormal: &[2]float64{p.Overhead, sigmaOf(base.Startup.PullOverhead, 0.05)}},
	}
}
