package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/convergesim/converge/report"
)

// TestCompareFigures: sim compare writes the start-up CDF and the bars
// as PNG and SVG, and DIR/index.html showing each and linking each
// policy's own index.html; the same command gives the same bytes.
func TestCompareFigures(t *testing.T) {
	dir := t.TempDir()
	run := func(out string) {
		t.Helper()
		if o, err := runCmd(t, "compare", "../../scenarios/small-cluster-gangs.yaml", "-o", out, "-q",
			"--policy", "kube", "--policy", "coscheduling"); err != nil {
			t.Fatalf("compare: %v\n%s", err, o)
		}
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	run(a)
	run(b)
	index, err := os.ReadFile(filepath.Join(a, report.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(index)
	var files []string
	for _, fig := range []string{startupCDFFigure, waitFigure, runTimeFigure, makespanFigure} {
		files = append(files, report.FigureFiles(fig)...)
		if !strings.Contains(page, `<img src="`+fig+`.png"`) {
			t.Errorf("index.html does not show %s", fig)
		}
		data, err := os.ReadFile(filepath.Join(a, fig+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s.png: %v", fig, err)
		}
	}
	for _, sub := range []string{"kube", "coscheduling"} {
		if !strings.Contains(page, `href="`+sub+`/index.html"`) {
			t.Errorf("index.html does not link %s's report", sub)
		}
		if _, err := os.Stat(filepath.Join(a, sub, report.IndexFile)); err != nil {
			t.Errorf("%s has no index.html: %v", sub, err)
		}
	}
	if !strings.Contains(page, "converge comparison") || !strings.Contains(page, `href="comparison.csv"`) {
		t.Errorf("index.html lacks the comparison table or its CSV")
	}
	// Every address on the page is a file of the folder.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1) {
		if _, err := os.Stat(filepath.Join(a, m[1])); err != nil {
			t.Errorf("index.html refers to %s, which is not there", m[1])
		}
	}
	for _, f := range append(files, report.IndexFile) {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: empty or differs between two runs", f)
		}
	}
}
