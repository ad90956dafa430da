package traces

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fxReadBytes reads data from a file named name in a temporary folder,
// in format ("" to detect).
func fxReadBytes(t *testing.T, name string, data []byte, format string) (*Trace, string, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &Trace{Start: NaN}
	_, err := ReadFile(tr, p, format)
	return tr, p, err
}

// TestFluxHostile gives each reader broken and hostile files: each is
// one error naming the file, the line and what is wrong.
func TestFluxHostile(t *testing.T) {
	long := strings.Repeat("x", 20<<20)
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	jobs, err := os.ReadFile(filepath.Join(fxData, "jobs.json"))
	if err != nil {
		t.Fatal(err)
	}
	several, err := os.ReadFile(filepath.Join(fxData, "several.eventlog"))
	if err != nil {
		t.Fatal(err)
	}
	collection, err := os.ReadFile(filepath.Join(fxData, "jobspec-events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(several)
	zw.Close()
	line := func(n string) string { return `:` + n + `: ` }
	for _, c := range []struct {
		name, format, data string
		want               []string // substrings of the error, after the file's name
	}{
		// flux-jobs
		{"trunc.json", "flux-jobs", string(jobs[:len(jobs)/2]), []string{"truncated"}},
		{"long.json", "flux-jobs", `{"jobs": [{"id": 1, "t_submit": 5, "name": "` + long + `"}]}`, []string{line("1"), "jobs[0].name", "a string of"}},
		{"huge.json", "flux-jobs", `{"jobs": [{"id": 1, "t_submit": 1e999}]}`, []string{line("1"), "jobs[0].t_submit", "not a number in range"}},
		{"neg.json", "flux-jobs", "{\"jobs\": [\n{\"id\": 1, \"t_submit\": 5},\n{\"id\": 2, \"t_submit\": -5}]}", []string{line("3"), "jobs[1].t_submit", "out of range"}},
		{"deep.json", "flux-jobs", `{"jobs": [{"id": 1, "t_submit": 5, "annotations": ` + deep + `}]}`, []string{line("1"), "jobs"}},
		{"hostlist.json", "flux-jobs", `{"jobs": [{"id": 1, "t_submit": 5, "nodelist": "n[0-999999999]"}]}`, []string{line("1"), "jobs[0].nodelist", "more than 1000000 hosts"}},
		{"hosts.json", "flux-jobs", "{\"jobs\": [{\"id\": 1, \"t_submit\": 5, \"nodelist\": \"a[0-999999]\"},\n {\"id\": 2, \"t_submit\": 5, \"nodelist\": \"b0\"}]}", []string{line("2"), "jobs[1].nodelist", "more than 1000000 distinct hosts"}},
		{"twice.json", "flux-jobs", "{\"jobs\": [{\"id\": 1, \"t_submit\": 5},\n {\"id\": 1, \"t_submit\": 6}]}", []string{line("2"), "jobs[1].id", "twice"}},
		{"order.jsonl", "flux-jobs", `{"id": 1, "t_submit": 5, "t_run": 4, "state": "RUN"}` + "\n", []string{line("1"), "t_run", "before t_submit"}},
		{"state.jsonl", "flux-jobs", `{"id": 1, "t_submit": 5, "state": "DONE"}` + "\n", []string{line("1"), "state", "not a Flux job state"}},
		// flux-eventlog
		{"trunc.eventlog", "flux-eventlog", string(several[:len(several)/2-10]), []string{"not a JSON event object"}},
		{"gz.eventlog", "flux-eventlog", gz.String()[:gz.Len()/2], []string{"truncated or corrupt"}},
		{"long.eventlog", "flux-eventlog", `{"timestamp": 1, "name": "submit", "context": {"note": "` + long + `"}}`, []string{line("1"), "a line longer than"}},
		{"huge.eventlog", "flux-eventlog", `{"timestamp": 1e400, "name": "submit"}`, []string{line("1"), "timestamp", "not a number in range"}},
		{"deep.eventlog", "flux-eventlog", `{"timestamp": 1, "name": "submit", "context": {"x": ` + deep[:20000] + deep[len(deep)-20000:] + `}}`, []string{line("1"), "not a JSON event object"}},
		{"order.eventlog", "flux-eventlog", "{\"timestamp\": 2, \"name\": \"submit\"}\n{\"timestamp\": 1, \"name\": \"validate\"}\n", []string{line("2"), "timestamp", "goes back in time"}},
		{"finish.eventlog", "flux-eventlog", "{\"timestamp\": 1, \"name\": \"submit\"}\n{\"timestamp\": 2, \"name\": \"alloc\"}\n{\"timestamp\": 3, \"name\": \"finish\", \"context\": {\"status\": 0}}\n", []string{line("3"), "finish without a start"}},
		{"start.eventlog", "flux-eventlog", "{\"timestamp\": 1, \"name\": \"alloc\"}\n", []string{line("1"), "starts with \"alloc\""}},
		{"status.eventlog", "flux-eventlog", "{\"timestamp\": 1, \"name\": \"submit\"}\n{\"timestamp\": 2, \"name\": \"alloc\"}\n{\"timestamp\": 3, \"name\": \"start\"}\n{\"timestamp\": 4, \"name\": \"finish\"}\n", []string{line("4"), "context.status", "missing"}},
		{"clean.eventlog", "flux-eventlog", "{\"timestamp\": 1, \"name\": \"submit\"}\n{\"timestamp\": 2, \"name\": \"clean\"}\n{\"timestamp\": 3, \"name\": \"memo\"}\n", []string{line("3"), "after clean"}},
		{"name.eventlog", "flux-eventlog", "{\"timestamp\": 1, \"name\": \"submit\"}\n{\"timestamp\": 2, \"name\": 7}\n", []string{line("2"), "name", "where an event name is expected"}},
		{"exc.eventlog", "flux-eventlog", "{\"timestamp\": 1, \"name\": \"submit\"}\n{\"timestamp\": 2, \"name\": \"exception\", \"context\": {\"type\": \"cancel\", \"severity\": 9}}\n", []string{line("2"), "context.severity", "out of range"}},
		// flux-exec-eventlog
		{"done.eventlog", "flux-exec-eventlog", "{\"timestamp\": 1, \"name\": \"init\"}\n{\"timestamp\": 2, \"name\": \"done\"}\n{\"timestamp\": 3, \"name\": \"complete\", \"context\": {\"status\": 0}}\n", []string{line("3"), "complete after done"}},
		{"taskmap.eventlog", "flux-exec-eventlog", "{\"timestamp\": 1, \"name\": \"init\"}\n{\"timestamp\": 1, \"name\": \"starting\"}\n{\"timestamp\": 2, \"name\": \"shell.start\", \"context\": {\"taskmap\": {\"version\": 1, \"map\": [[0, 1000000, 1000000, 1000]]}}}\n", []string{line("3"), "context.taskmap.map", "more than"}},
		// jobspec
		{"trunc.yaml", "jobspec", "version: 1\nresources:\n  - type: node\n    count: [", []string{"not valid YAML"}},
		{"count.yaml", "jobspec", "version: 1\nresources:\n  - type: node\n    count: 99999999999\n    with:\n      - type: slot\n        count: 1\n        with: [{type: core, count: 1}]\ntasks: [{command: [a], slot: s, count: {per_slot: 1}}]\nattributes: {}\n", []string{line("4"), "resources[0].count", "out of range"}},
		{"slot.yaml", "jobspec", "version: 1\nresources:\n  - type: node\n    count: 1\ntasks:\n  - command: [a]\n    count: {per_slot: 1}\nattributes: {}\n", []string{line("2"), "resources", "no slot"}},
		{"alias.yaml", "jobspec", "version: 1\nx: &a [1]\nresources: *a\ntasks: []\n", []string{line("3"), "aliases"}},
		{"deep.yaml", "jobspec", "version: 1\ntasks: []\nresources: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n", []string{"resources", "nested more than"}},
		{"huge.json", "jobspec", `{"version": 1, "resources": [{"type": "slot", "count": 1e999}], "tasks": [], "attributes": {}}`, []string{"resources[0].count", "not an integer in range"}},
		{"deep.json", "jobspec", `{"version": 1, "tasks": [], "resources": ` + deep + `}`, []string{line("1"), "not valid JSON"}},
		// R
		{"hostlist.json", "R", `{"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0"}}], "nodelist": ["n[0-999999999]"]}}`, []string{"execution.nodelist[0]", "more than 1000000 hosts"}},
		{"ranks.json", "R", `{"version": 1, "execution": {"R_lite": [{"rank": "0-99999999", "children": {"core": "0"}}]}}`, []string{"execution.R_lite[0].rank", "more than 1000000 ids"}},
		{"props.json", "R", `{"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0-999999"}}], "properties": {"a": "0-999999", "b": "0-999999", "c": "0-999999", "d": "0-999999", "e": "0-999999"}}}`, []string{"execution.properties", "more than 4000000 ranks in all"}},
		{"cores.json", "R", `{"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0-1000000"}}]}}`, []string{"execution.R_lite[0].children.core", "more than 1000000 ids"}},
		{"count.json", "R", `{"version": 1, "execution": {"R_lite": [{"rank": "0-3", "children": {"core": "0"}}], "nodelist": ["n[1-3]"]}}`, []string{"execution.nodelist", "3 hosts for 4 ranks"}},
		{"version.json", "R", `{"version": 2, "execution": {}}`, []string{"version", "out of range"}},
		{"trunc.json", "R", `{"version": 1, "execution": {"R_lite": [{"rank": "0"`, []string{"truncated"}},
		// flux-jobspec-events
		{"trunc.json", "flux-jobspec-events", string(collection[:len(collection)/2]), []string{"truncated"}},
		{"order.json", "flux-jobspec-events", strings.Replace(string(collection), `"timestamp": 1031.5`, `"timestamp": 999`, 1), []string{line("4"), "test/cpu/size2[0].events[5].timestamp", "goes back in time"}},
		{"huge.json", "flux-jobspec-events", strings.Replace(string(collection), `"count": 4`, `"count": 1e999`, 1), []string{line("4"), "test/cpu/size2[0].jobspec.resources[0].with[0].count", "not an integer"}},
		{"long.json", "flux-jobspec-events", `{"x": [{"jobspec": {"name": "` + long + `"}}]}`, []string{"x[0].jobspec.version", "missing"}},
	} {
		_, path, err := fxReadBytes(t, c.name, []byte(c.data), c.format)
		if err == nil {
			t.Errorf("%s (%s): no error", c.name, c.format)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, path) {
			t.Errorf("%s (%s): the error does not start with the file's name: %v", c.name, c.format, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(msg[len(path):], w) {
				t.Errorf("%s (%s): error %q lacks %q", c.name, c.format, limitForLog(msg), w)
			}
		}
		if len(msg) > 2000 {
			t.Errorf("%s (%s): an error of %d bytes", c.name, c.format, len(msg))
		}
	}
}

func limitForLog(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestFluxHostileLine checks that a truncated file names a line.
func TestFluxHostileLine(t *testing.T) {
	several, err := os.ReadFile(filepath.Join(fxData, "several.eventlog"))
	if err != nil {
		t.Fatal(err)
	}
	cut := several[:bytes.Index(several, []byte(`"name":"start"`))+5]
	_, path, err := fxReadBytes(t, "cut.eventlog", cut, "")
	if err == nil {
		t.Fatal("a cut eventlog read without error")
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:6: `).MatchString(err.Error()) {
		t.Errorf("error %v does not name line 6", err)
	}
}
