package report

import (
	"strings"
	"testing"
)

func TestRenderIndex(t *testing.T) {
	page := Page{
		Title:    `run <script>alert(1)</script> & co`,
		Intro:    "seed 1",
		Text:     []byte("a < b\n"),
		TextFile: "summary.txt",
		Figures:  []FigureInfo{{Name: "gantt", Title: "Pods on nodes", Caption: "red: start-up"}},
		Links:    []Link{{Href: "kube/index.html", Text: "kube"}},
		Files:    []string{"jobs.csv"},
	}
	b, err := RenderIndex(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{
		"<title>run &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</title>",
		"<pre>a &lt; b\n</pre>",
		`<a href="gantt.svg"><img src="gantt.png" alt="Pods on nodes"></a>`,
		`<a href="kube/index.html">kube</a>`,
		`<a href="jobs.csv">jobs.csv</a>`,
		`<a href="summary.txt">summary.txt</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(html, "<script") {
		t.Errorf("the title's markup reached the page")
	}
	again, _ := RenderIndex(page)
	if string(again) != html {
		t.Errorf("two renderings differ")
	}
}

// A page refers only to files of its folder.
func TestRenderIndexRefusesOutsideAddresses(t *testing.T) {
	for _, href := range []string{"https://example.org/x.png", "//host/x", "/etc/passwd", "../other/index.html", "a/../../b", "", "javascript:alert(1)"} {
		if _, err := RenderIndex(Page{Title: "t", Links: []Link{{Href: href, Text: "x"}}}); err == nil {
			t.Errorf("link %q accepted", href)
		}
	}
	if _, err := RenderIndex(Page{Title: "t", Figures: []FigureInfo{{Name: "../x"}}}); err == nil {
		t.Errorf("figure outside the folder accepted")
	}
	if _, err := RenderIndex(Page{Title: "t", Links: []Link{{Href: "a/./b/../c.html", Text: "x"}}}); err != nil {
		t.Errorf("an address inside the folder refused: %v", err)
	}
}

// The stall banner gets the warning margin; a run that finished does
// not.
func TestRenderIndexWarn(t *testing.T) {
	for _, c := range []struct {
		text string
		warn bool
	}{{"converge run summary\n\n!!! RUN STALLED\n", true}, {"!!! stalled\n", true}, {"all done !!! fine\n", false}} {
		b, err := RenderIndex(Page{Title: "t", Text: []byte(c.text)})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), `<pre class="warn">`); got != c.warn {
			t.Errorf("%q: warning %v, want %v", c.text, got, c.warn)
		}
	}
}
