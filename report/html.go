package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/convergesim/converge/engine"
)

// Page is the index.html of an output folder: one self-contained page
// (no script, no network access: every image is a file of the folder,
// referred to by a relative address) with the folder's summary, its
// figures and links to its files and to other pages.
type Page struct {
	Title string
	// Intro is a sentence under the title ("" for none).
	Intro string
	// Text is preformatted text shown first (summary.txt,
	// comparison.txt); TextFile the file it comes from.
	Text     []byte
	TextFile string
	Figures  []FigureInfo
	// Links are other pages (a comparison's policies, a sweep's
	// points), listed under Title as a section.
	LinksTitle string
	Links      []Link
	// Files are the folder's data files, linked at the bottom.
	Files []string
}

// Link is an address relative to the page and its text.
type Link struct {
	Href, Text string
}

// RenderIndex renders the page. Addresses are relative paths inside
// the folder; an absolute address, one with a scheme or one that leaves
// the folder (..) is refused, so that the page never reaches outside
// what it describes.
func RenderIndex(p Page) ([]byte, error) {
	check := func(href string) error {
		u, err := url.Parse(href)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(href, "/") || href == "" {
			return fmt.Errorf("index.html: %q is not a relative address inside the folder", href)
		}
		if c := path.Clean(u.Path); c == ".." || strings.HasPrefix(c, "../") {
			return fmt.Errorf("index.html: %q leaves the folder", href)
		}
		return nil
	}
	for _, f := range p.Figures {
		for _, name := range FigureFiles(f.Name) {
			if err := check(name); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range p.Links {
		if err := check(l.Href); err != nil {
			return nil, err
		}
	}
	for _, f := range append([]string{p.TextFile}, p.Files...) {
		if f != "" {
			if err := check(f); err != nil {
				return nil, err
			}
		}
	}
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, pageData{p, bytes.Contains(p.Text, []byte("\n!!! ")) || bytes.HasPrefix(p.Text, []byte("!!! "))}); err != nil {
		return nil, fmt.Errorf("index.html: %w", err)
	}
	return b.Bytes(), nil
}

// WriteIndex renders the page into w.
func WriteIndex(w io.Writer, p Page) error {
	b, err := RenderIndex(p)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

type pageData struct {
	Page
	Warn bool // the text starts with the stall banner
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"png": func(name string) string { return name + ".png" },
	"svg": func(name string) string { return name + ".svg" },
	"str": func(b []byte) string { return string(b) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1250px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; }
h2 { font-size: 1.2em; margin-top: 1.5em; border-bottom: 1px solid #ccc; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; line-height: 1.3; }
pre.warn { border-left: 6px solid #d62728; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.4em; }
nav a { margin-right: 1em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{- if .Intro}}
<p>{{.Intro}}</p>
{{- end}}
{{- if .Links}}
<h2>{{if .LinksTitle}}{{.LinksTitle}}{{else}}Pages{{end}}</h2>
<ul>
{{- range .Links}}
<li><a href="{{.Href}}">{{.Text}}</a></li>
{{- end}}
</ul>
{{- end}}
{{- if .Text}}
<h2>Summary{{if .TextFile}} (<a href="{{.TextFile}}">{{.TextFile}}</a>){{end}}</h2>
<pre{{if .Warn}} class="warn"{{end}}>{{str .Text}}</pre>
{{- end}}
{{- if .Figures}}
<h2>Figures</h2>
<nav>{{range .Figures}}<a href="#{{.Name}}">{{.Name}}</a> {{end}}</nav>
{{- range .Figures}}
<figure id="{{.Name}}">
<a href="{{svg .Name}}"><img src="{{png .Name}}" alt="{{.Title}}"></a>
<figcaption><b>{{.Title}}</b>. {{.Caption}} (<a href="{{svg .Name}}">SVG</a>, <a href="{{png .Name}}">PNG</a>)</figcaption>
</figure>
{{- end}}
{{- end}}
{{- if .Files}}
<h2>Files</h2>
<ul>
{{- range .Files}}
<li><a href="{{.}}">{{.}}</a></li>
{{- end}}
</ul>
{{- end}}
</body>
</html>
`))

// runPage is the index.html of a run's report folder.
func runPage(res *engine.Result, meta Meta, summary []byte, figs []FigureInfo) Page {
	title := "converge run"
	if l := runLabel(meta); l != "" {
		title += ": " + l
	}
	return Page{
		Title:    title,
		Intro:    fmt.Sprintf("Seed %d. The figures link to their SVG; docs/outputs.md defines every file, column and metric.", res.Seed),
		Text:     summary,
		TextFile: SummaryFile,
		Figures:  figs,
		Files:    []string{SummaryFile, ResultsFile, JobsFile, PodsFile, EventsFile},
	}
}
