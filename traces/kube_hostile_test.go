package traces

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func kubeFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(kubeDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// podList is a List of one pod with the given JSON fields spliced in.
func podList(metadata, spec string) string {
	return `{"apiVersion":"v1","kind":"List","items":[
{"apiVersion":"v1","kind":"Pod",
 "metadata":` + metadata + `,
 "spec":` + spec + `,
 "status":{"phase":"Running"}}
]}`
}

func TestKubeHostile(t *testing.T) {
	pods := kubeFixture(t, "pods-list.json")
	events := kubeFixture(t, "events-exporter.jsonl")
	huge := strings.Repeat("x", 20<<20)
	okMeta := `{"name":"p","namespace":"default","creationTimestamp":"2024-06-01T15:35:42Z"}`
	for _, tc := range []struct {
		name, format string
		data         []byte
		want         []string
		noLine       bool // the error cannot name a line
	}{
		{"truncated", "kube-pods", pods[:len(pods)/2], []string{"ends inside a JSON value"}, false},
		{"truncated gzip", "kube-pods", func() []byte { g := gz(t, pods); return g[:len(g)/2] }(), []string{"truncated"}, false},
		{"20 MB name", "kube-pods", []byte(podList(`{"name":"`+huge+`"}`, `{}`)), []string{"items[0].metadata.name", "longer than 253"}, false},
		{"20 MB line of garbage", "kube-pods", []byte("[" + huge), []string{"not valid JSON"}, false},
		{"deep nesting", "kube-pods", []byte(`{"items":[{"metadata":` + strings.Repeat("[", 20000)), []string{"items"}, false},
		{"huge cpu", "kube-pods", []byte(podList(okMeta, `{"containers":[{"name":"c","resources":{"requests":{"cpu":"1e400"}}}]}`)),
			[]string{"items[0].spec.containers[0].resources.requests.cpu", "out of range"}, false},
		{"absurd memory", "kube-pods", []byte(podList(okMeta, `{"containers":[{"name":"c","resources":{"requests":{"memory":"9000000Ei"}}}]}`)),
			[]string{"requests.memory", "more than"}, false},
		{"huge JSON number", "kube-pods", []byte(podList(okMeta, `{"containers":[{"name":"c","resources":{"requests":{"cpu":1e999}}}]}`)),
			[]string{"requests.cpu"}, false},
		{"NaN", "kube-pods", []byte(podList(okMeta, `{"containers":[{"name":"c","resources":{"requests":{"cpu":NaN}}}]}`)),
			[]string{"not valid JSON"}, false},
		{"negative", "kube-pods", []byte(podList(okMeta, `{"containers":[{"name":"c","resources":{"requests":{"memory":"-4Gi"}}}]}`)),
			[]string{"requests.memory", "negative"}, false},
		{"bad time", "kube-pods", []byte(podList(`{"name":"p","creationTimestamp":"yesterday"}`, `{}`)),
			[]string{"items[0].metadata.creationTimestamp", "RFC 3339"}, false},
		{"year 9999", "kube-pods", []byte(podList(`{"name":"p","creationTimestamp":"9999-01-01T00:00:00Z"}`, `{}`)),
			[]string{"creationTimestamp", "out of range"}, false},
		{"no name", "kube-pods", []byte(podList(`{"namespace":"x"}`, `{}`)), []string{"items[0].metadata.name", "missing"}, false},
		{"wrong type", "kube-pods", []byte(podList(`{"name":5}`, `{}`)), []string{"metadata.name", "number"}, false},
		{"bad index", "kube-pods", []byte(podList(`{"name":"p","annotations":{"batch.kubernetes.io/job-completion-index":"-3"}}`, `{}`)),
			[]string{"job-completion-index", "not an index"}, false},
		{"mixed documents", "kube-pods", append(append([]byte{}, pods...), kubeFixture(t, "nodes-list.json")...), []string{"after the end"}, false},
		{"a node in a pod list", "kube-pods", kubeFixture(t, "nodes-list.json"), []string{`"Node" in a pod list`}, false},
		{"events as pods", "kube-pods", events, []string{"not a pod list"}, false},
		{"not JSON", "kube-pods", []byte("hello\n"), []string{"not a JSON object or array"}, false},

		{"20 MB line", "kube-events", []byte(string(events) + `{"reason":"x","message":"` + huge + `"}` + "\n"), []string{"a line longer than"}, false},
		{"no event", "kube-events", []byte(`{"level":"info","message":"starting"}` + "\nplain text\n"), []string{"no Kubernetes event"}, true},
		{"truncated event line", "kube-events", events[:len(events)-40], []string{"a broken event"}, false},
		{"huge count", "kube-events", []byte(`{"reason":"Started","count":1e30,"involvedObject":{"kind":"Pod","name":"p"},"firstTimestamp":"2024-01-01T00:00:00Z"}` + "\n"),
			[]string{"count"}, false},
		{"negative count", "kube-events", []byte(`{"reason":"Started","count":-2,"involvedObject":{"kind":"Pod","name":"p"},"firstTimestamp":"2024-01-01T00:00:00Z"}` + "\n"),
			[]string{"count", "not a count"}, false},
		{"bad watch type", "kube-events", []byte(`{"type":"EXPLODED","object":{"kind":"Pod","metadata":{"name":"p"}}}` + "\n"), []string{"type", "not a watch event type"}, false},
		{"bad event time", "kube-events", []byte(`{"reason":"Started","involvedObject":{"kind":"Pod","name":"p"},"eventTime":"2024-13-01T00:00:00Z"}` + "\n"),
			[]string{"eventTime", "RFC 3339"}, false},
		{"bad node in message", "kube-events", []byte(`{"reason":"Scheduled","message":"Successfully assigned d/p to ` + strings.Repeat("n", 300) + `","involvedObject":{"kind":"Pod","name":"p"},"firstTimestamp":"2024-01-01T00:00:00Z"}` + "\n"),
			[]string{"message", "longer than 253"}, false},
		{"truncated list", "kube-events", kubeFixture(t, "events-list.json")[:500], []string{"ends inside a JSON value"}, false},
		{"deep watch", "kube-events", []byte(strings.Repeat(`{"type":"ADDED","object":`, 20000)), []string{"kube"}, false},

		{"huge node memory", "kube-nodes", []byte(`{"kind":"List","items":[{"kind":"Node","metadata":{"name":"n"},"status":{"allocatable":{"memory":"1e50"}}}]}`),
			[]string{"items[0].status.allocatable.memory"}, false},
		{"node without name", "kube-nodes", []byte(`[{"status":{}}]`), []string{"items[0].metadata.name", "missing"}, false},

		{"pod-times garbage", "pod-times", []byte(",time_seconds,event,pod,size,experiment,iteration\n0,NaN,Ready,pod-0,2,pods,0\n"), []string{"time_seconds"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kube.in")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open([]string{path}, tc.format)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if len(msg) > 1000 {
				t.Errorf("an error of %d bytes", len(msg))
			}
			re := regexp.QuoteMeta(path) + `:[0-9]+: `
			if tc.format == "pod-times" {
				re = regexp.QuoteMeta(path) + `: line [0-9]+: ` // ReadPodTimes' own form
			} else if tc.noLine {
				re = regexp.QuoteMeta(path) + `: `
			}
			if !regexp.MustCompile("^" + re).MatchString(msg) {
				t.Errorf("error does not name file and line: %.300s", msg)
			}
			for _, w := range tc.want {
				if tc.name == "deep watch" || tc.name == "deep nesting" {
					break
				}
				if !strings.Contains(msg, w) {
					t.Errorf("error %.300q lacks %q", msg, w)
				}
			}
		})
	}
}

// Detection leaves the Kubernetes formats apart, and empty or binary
// files get their own error.
func TestKubeDetectHostile(t *testing.T) {
	for _, tc := range []struct {
		data, want string
	}{
		{"", "empty file"},
		{"\x00\x01\x02", "binary"},
		{`{"apiVersion":"v1","kind":"List","items":[]}`, "not a trace format"},
	} {
		in, err := NewInput(strings.NewReader(tc.data), "x.json")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Detect(in); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "x.json") {
			t.Errorf("%q: %v", tc.data, err)
		}
	}
}

// fuzzKube checks that a reader never panics, that every error names the
// file, and that what it read can be written.
func fuzzKube(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add(kubeFixture(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := NewInput(bytes.NewReader(data), "fuzz.in")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.in") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		tr := &Trace{Start: NaN}
		fm, err := Read(tr, in, format)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.in") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		tr.Link("Job")
		if fm.Write != nil {
			if err := fm.Write(io.Discard, tr); err != nil {
				t.Fatalf("writing what was read: %v", err)
			}
		}
		d, _ := NewInput(bytes.NewReader(data), "fuzz.in")
		Detect(d)
	})
}

func FuzzKubePods(f *testing.F) {
	fuzzKube(f, "kube-pods", "pods-list.json", "pods-array.json", "pod-single.json")
}

func FuzzKubeEvents(f *testing.F) {
	fuzzKube(f, "kube-events", "events-exporter.jsonl", "events-list.json", "watch-pods.jsonl", "watch-raw.json")
}

func FuzzKubeNodes(f *testing.F) {
	fuzzKube(f, "kube-nodes", "nodes-list.json", "nodes-array.json")
}

func FuzzPodTimes(f *testing.F) {
	fuzzKube(f, "pod-times", "pod-times.csv")
}

// A list of another kind whose items do not say theirs (as the API
// returns them) is refused by its list kind.
func TestKubeListKind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.json")
	doc := `{"apiVersion":"v1","items":[{"metadata":{"name":"n1"},"spec":{},"status":{}}],"kind":"NodeList"}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open([]string{path}, "kube-pods"); err == nil || !strings.Contains(err.Error(), `kind: a "NodeList", not a pod list`) {
		t.Errorf("err = %v", err)
	}
	if tr, err := Open([]string{path}, ""); err != nil || len(tr.Nodes) != 1 {
		t.Errorf("detected: %v", err)
	}
}

// TestKubeSingleObjectOfAnotherKind: one object (not a list) of another
// kind than the format reads is refused, naming its kind, the file and
// the line, not read as what it is not.
func TestKubeSingleObjectOfAnotherKind(t *testing.T) {
	dir := t.TempDir()
	node := filepath.Join(dir, "node.json")
	if err := os.WriteFile(node, []byte(`{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n0"}, "status": {"allocatable": {"cpu": "4"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, format, want string }{
		{filepath.Join("testdata", "kube", "pod-single.json"), "kube-nodes", `pod-single.json:1: kind: a "Pod", not a Node`},
		{node, "kube-pods", `node.json:1: kind: a "Node", not a Pod`},
	} {
		_, err := Open([]string{tc.file}, tc.format)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s as %s: %v, want an error containing %q", tc.file, tc.format, err, tc.want)
		}
	}
}
