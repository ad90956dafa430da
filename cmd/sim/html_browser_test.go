package main

// index.html opened in a real browser: headless Chromium from Debian's
// packages (.ci/run installs it; without it these tests skip). The page
// is served from its output folder over HTTP on 127.0.0.1, every other
// host unresolvable, with a small script injected at the top of <head>
// that records console errors, uncaught exceptions and failed loads and,
// once the page has loaded, writes what it saw (every image's natural
// size, every linked SVG decoded as an image, the errors) into the DOM,
// which Chromium then dumps (--dump-dom).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// browserCheckScript runs first in the page (injected at the top of
// <head>): it records errors as they happen and reports after load.
const browserCheckScript = `<script>
(function () {
  var errors = [];
  function str(a) {
    try { return a instanceof Error ? String(a.stack || a) : (typeof a === "object" ? JSON.stringify(a) : String(a)); }
    catch (e) { return String(a); }
  }
  var consoleError = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.map.call(arguments, str).join(" "));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && t.tagName) {
      errors.push("failed to load <" + t.tagName.toLowerCase() + "> " + (t.currentSrc || t.src || t.href || ""));
    } else {
      errors.push("uncaught " + e.message + " at " + e.filename + ":" + e.lineno);
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) { errors.push("unhandled rejection: " + str(e.reason)); });
  document.addEventListener("securitypolicyviolation", function (e) { errors.push("CSP violation: " + e.violatedDirective + " " + e.blockedURI); });
  function settled(img) {
    return new Promise(function (done) {
      if (img.complete) { done(); return; }
      img.addEventListener("load", done);
      img.addEventListener("error", done);
    });
  }
  function size(img) { return { src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth, height: img.naturalHeight }; }
  window.addEventListener("load", function () {
    var imgs = Array.prototype.slice.call(document.images);
    imgs.forEach(function (img) { img.loading = "eager"; });
    // Each figure's linked SVG, decoded as an image.
    var links = Array.prototype.slice.call(document.querySelectorAll("a[href]")).filter(function (a) {
      return /\.svg$/i.test(a.getAttribute("href"));
    }).map(function (a) { var i = new Image(); i.src = a.href; i.setAttribute("data-href", a.getAttribute("href")); return i; });
    Promise.all(imgs.concat(links).map(settled)).then(function () {
      var box = document.body.getBoundingClientRect();
      var out = {
        title: document.title,
        bodyHeight: box.height,
        textLength: document.body.innerText.length,
        images: imgs.map(size),
        svgLinks: links.map(function (i) { var s = size(i); s.src = i.getAttribute("data-href"); return s; }),
        errors: errors
      };
      var pre = document.createElement("pre");
      pre.id = "converge-browser-check";
      pre.textContent = JSON.stringify(out);
      document.body.appendChild(pre);
    });
  });
})();
</script>
`

// browserImage is one image as the browser decoded it.
type browserImage struct {
	Src      string `json:"src"`
	Complete bool   `json:"complete"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

// browserReport is what the check script saw, with the served requests
// and the browser's own log.
type browserReport struct {
	Title      string         `json:"title"`
	BodyHeight float64        `json:"bodyHeight"`
	TextLength int            `json:"textLength"`
	Images     []browserImage `json:"images"`
	SVGLinks   []browserImage `json:"svgLinks"`
	Errors     []string       `json:"errors"`

	DOM      string   // the page's DOM after load, unescaped
	Requests []string // "STATUS /path" of every request served
	Log      string   // Chromium's standard error
}

// problems lists what is wrong with a loaded page: errors, images that
// did not decode, SVG links that did not, requests that failed.
func (r *browserReport) problems() []string {
	var out []string
	out = append(out, r.Errors...)
	for _, im := range append(append([]browserImage{}, r.Images...), r.SVGLinks...) {
		if !im.Complete || im.Width <= 0 || im.Height <= 0 {
			out = append(out, fmt.Sprintf("image %s did not load (complete %v, natural size %dx%d)", im.Src, im.Complete, im.Width, im.Height))
		}
	}
	for _, q := range r.Requests {
		if !strings.HasPrefix(q, "200 ") && !strings.HasSuffix(q, " /favicon.ico") {
			out = append(out, "request "+q)
		}
	}
	// What the page logged before the check script could hook in.
	for _, l := range strings.Split(r.Log, "\n") {
		if strings.Contains(l, ":CONSOLE") && (strings.Contains(l, "Uncaught") || strings.Contains(l, "Failed to load resource")) {
			out = append(out, "browser log: "+l)
		}
	}
	return out
}

// chromiumPath finds Debian's Chromium, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it): index.html is not checked in a browser")
	return ""
}

// openInChromium serves dir over HTTP on 127.0.0.1, opens page in
// headless Chromium with the check script injected, and returns what it
// saw. It fails the test when Chromium does not run or the script does
// not report.
func openInChromium(t *testing.T, chromium, dir, page string) *browserReport {
	t.Helper()
	var (
		mu       sync.Mutex
		requests []string
	)
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			mu.Lock()
			requests = append(requests, fmt.Sprintf("%d %s", rec.status, req.URL.Path))
			mu.Unlock()
		}()
		if req.URL.Path == "/"+page {
			data, err := os.ReadFile(filepath.Join(dir, page))
			if err != nil {
				rec.WriteHeader(http.StatusNotFound)
				return
			}
			rec.Header().Set("Content-Type", "text/html; charset=utf-8")
			rec.Write(injectCheck(data))
			return
		}
		files.ServeHTTP(rec, req)
	}))
	defer srv.Close()

	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+profile,
		// No network but this server: a page that needs any is broken.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--window-size=1280,2000",
		"--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=5000", "--dump-dom",
		srv.URL+"/"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HOME="+profile) // Chromium writes under HOME
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("chromium did not finish within 60 s\n%s", tail(stderr.String(), 40))
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(stderr.String(), 40))
	}
	dom := stdout.String()
	m := regexp.MustCompile(`(?s)<pre id="converge-browser-check">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the page never finished loading, or its scripts did not run (no report in the DOM)\nDOM:\n%s\nlog:\n%s", tail(dom, 30), tail(stderr.String(), 40))
	}
	r := &browserReport{}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), r); err != nil {
		t.Fatalf("the check script's report: %v\n%s", err, m[1])
	}
	r.DOM = html.UnescapeString(strings.Replace(dom, m[0], "", 1))
	mu.Lock()
	r.Requests = append([]string{}, requests...)
	mu.Unlock()
	r.Log = stderr.String()
	return r
}

// injectCheck puts the check script first in <head> (else first in the
// document after its doctype).
func injectCheck(page []byte) []byte {
	if loc := regexp.MustCompile(`(?i)<head[^>]*>`).FindIndex(page); loc != nil {
		return bytes.Join([][]byte{page[:loc[1]], []byte(browserCheckScript), page[loc[1]:]}, nil)
	}
	if loc := regexp.MustCompile(`(?i)<!doctype[^>]*>`).FindIndex(page); loc != nil {
		return bytes.Join([][]byte{page[:loc[1]], []byte(browserCheckScript), page[loc[1]:]}, nil)
	}
	return append([]byte(browserCheckScript), page...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestIndexHTMLInChromium runs bundled scenarios (a plain run, a
// stalled one, one with a workflow's predictions) and a small sweep, and
// opens each output folder's index.html in Chromium: it renders with the
// folder's summary, every image (and every SVG a figure links to)
// decodes, every figure of the folder is on it, nothing fails to load
// and the console has no errors.
func TestIndexHTMLInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	for _, name := range []string{"kube-basic", "small-cluster-gangs", "lammps-stream-ml"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if out, err := runCmd(t, "run", filepath.Join("../../scenarios", name+".yaml"), "-o", dir, "-q"); err != nil {
				t.Fatalf("sim run: %v\n%s", err, out)
			}
			checkIndexPage(t, chromium, dir, name)
		})
	}
	t.Run("sweep", func(t *testing.T) {
		base, err := filepath.Abs(scenario)
		if err != nil {
			t.Fatal(err)
		}
		sweep := filepath.Join(t.TempDir(), "two-policies.yaml")
		writeTestFile(t, sweep, []byte("version: 1\nbase: "+base+"\naxes:\n  - path: policy.name\n    values: [kube, fluence]\n"))
		dir := filepath.Join(t.TempDir(), "out")
		if out, err := runCmd(t, "sweep", sweep, "-o", dir, "-q", "-j", "2"); err != nil {
			t.Fatalf("sim sweep: %v\n%s", err, out)
		}
		checkIndexPage(t, chromium, dir, "two-policies")
	})
}

// checkIndexPage opens dir/index.html in Chromium and checks it (name:
// what its title names).
func checkIndexPage(t *testing.T, chromium, dir, name string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Fatalf("no index.html in the output folder: %v", err)
	}
	r := openInChromium(t, chromium, dir, "index.html")
	for _, p := range r.problems() {
		t.Errorf("index.html: %s", p)
	}
	if r.BodyHeight <= 0 || r.TextLength == 0 {
		t.Errorf("index.html did not render: body height %v, %d characters of text", r.BodyHeight, r.TextLength)
	}
	summary, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.DOM, strings.TrimSpace(string(summary))) {
		t.Errorf("the rendered page does not hold summary.txt:\n%s", tail(r.DOM, 40))
	}
	if !strings.Contains(r.Title, name) {
		t.Errorf("title %q does not name %s", r.Title, name)
	}
	// Every figure of the folder is on the page.
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(pngs) == 0 {
		t.Fatalf("no figures in %s", dir)
	}
	shown := map[string]bool{}
	for _, im := range r.Images {
		shown[im.Src] = true
	}
	var missing []string
	for _, p := range pngs {
		if !shown[filepath.Base(p)] {
			missing = append(missing, filepath.Base(p))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("figures not on the page: %v (images shown: %v)", missing, r.Images)
	}
	t.Logf("%d images, %d SVG links, %d requests, all loaded", len(r.Images), len(r.SVGLinks), len(r.Requests))
}

// TestBrowserCheckCatchesBrokenPage shows the harness can fail: a page
// with a missing image, a corrupt one, a script error, a console.error
// and an image from another host gets each reported.
func TestBrowserCheckCatchesBrokenPage(t *testing.T) {
	chromium := chromiumPath(t)
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "corrupt.png"), []byte("not a PNG"))
	writeTestFile(t, filepath.Join(dir, "page.html"), []byte(`<!DOCTYPE html>
<html><head><title>broken</title></head>
<body><h1>Summary</h1>
<img src="missing.png" alt="missing">
<img src="corrupt.png" alt="corrupt">
<img src="http://example.com/remote.png" alt="remote">
<a href="nothing.svg">svg</a>
<script>console.error("something went wrong"); undefinedFunction();</script>
</body></html>
`))
	r := openInChromium(t, chromium, dir, "page.html")
	all := strings.Join(r.problems(), "\n")
	for _, want := range []string{
		"failed to load <img> " + "http://127.0.0.1", // missing.png
		"image missing.png did not load",
		"image corrupt.png did not load",
		"image http://example.com/remote.png did not load",
		"image nothing.svg did not load",
		"console.error: something went wrong",
		"undefinedFunction is not defined",
		"request 404 /missing.png",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("not reported: %q\nreported:\n%s", want, all)
		}
	}
	if !strings.Contains(r.DOM, "<h1>Summary</h1>") {
		t.Errorf("DOM without the page's heading:\n%s", r.DOM)
	}
}
