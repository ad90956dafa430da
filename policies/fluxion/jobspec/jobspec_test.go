package jobspec

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateJobspec = flag.Bool("jobspec.update", false, "rewrite the # want: lines of testdata/invalid/*.yaml")

func readJobspec(t *testing.T, path string) *Jobspec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := ParseJobspec(data, filepath.Base(path))
	if err != nil {
		t.Fatalf("ParseJobspec: %v", err)
	}
	return js
}

// TestParseJobspecValid reads the accepted examples. Each row states how
// the slot count and the per-type totals follow from the counts.
func TestParseJobspecValid(t *testing.T) {
	tests := []struct {
		file      string
		version   int
		slots     int64
		slotLabel string
		totals    map[string]int64
		duration  float64
		seconds   int64
		queue     string
	}{
		{
			// node:4 > slot:1 > core:2: 4·1 = 4 slots, 4·1·2 = 8 cores.
			file: "v1_node_slot_core.yaml", version: 1, slots: 4, slotLabel: "default",
			totals:   map[string]int64{"node": 4, "slot": 4, "core": 8},
			duration: 3600, seconds: 3600,
		},
		{
			// slot:10 > core:2: 20 cores; 0.5 s rounds up to 1 s.
			file: "v1_slot_core.yaml", version: 1, slots: 10, slotLabel: "task",
			totals:   map[string]int64{"slot": 10, "core": 20},
			duration: 0.5, seconds: 1,
		},
		{
			// slot:8 > (gpu:1, core:4): 8 GPUs, 32 cores.
			file: "v1_slot_core_gpu.yaml", version: 1, slots: 8, slotLabel: "gpuslot",
			totals:   map[string]int64{"slot": 8, "core": 32, "gpu": 8},
			duration: 7200, seconds: 7200, queue: "gpu",
		},
		{
			// node:4 > slot:4 > (core:1, gpu:1): 16 slots, 16 cores, 16 GPUs.
			file: "v1_node_slot_core_gpu.yaml", version: 1, slots: 16, slotLabel: "default",
			totals:   map[string]int64{"node": 4, "slot": 16, "core": 16, "gpu": 16},
			duration: 3600, seconds: 3600,
		},
		{
			// node:2 > slot:4 > (core:1, gpu:1, memory:4096): 8 slots,
			// 8 cores, 8 GPUs, 8·4096 = 32768 MB; 90.25 s → 91 s.
			file: "v1_node_slot_core_gpu_memory.json", version: 1, slots: 8, slotLabel: "rank",
			totals:   map[string]int64{"node": 2, "slot": 8, "core": 8, "gpu": 8, "memory": 32768},
			duration: 90.25, seconds: 91,
		},
		{
			// Fluence, 4 pods × 2 CPUs: slot:4 > core:2.
			file: "fluence_core.yaml", version: 9999, slots: 4, slotLabel: "default",
			totals:   map[string]int64{"slot": 4, "core": 8},
			duration: 3600, seconds: 3600,
		},
		{
			// Fluence, 3 pods × (8 CPUs, 16384 MB, 1 GPU).
			file: "fluence_core_memory_gpu.yaml", version: 9999, slots: 3, slotLabel: "default",
			totals:   map[string]int64{"slot": 3, "core": 24, "memory": 49152, "gpu": 3},
			duration: 3600, seconds: 3600,
		},
		{
			// Fluence zone variant: subnet:1 > node:1 > slot:3 > (core:1, memory:512).
			file: "fluence_zone.yaml", version: 9999, slots: 3, slotLabel: "default",
			totals:   map[string]int64{"subnet": 1, "node": 1, "slot": 3, "core": 3, "memory": 1536},
			duration: 3600, seconds: 3600,
		},
		{
			// slot {min 2, max 8, *2} > node:1 > socket:2 > core:4: totals
			// use the minimum, 2 slots → 2 nodes, 4 sockets, 16 cores.
			file: "canonical_range.yaml", version: 9999, slots: 2, slotLabel: "nodes",
			totals:   map[string]int64{"slot": 2, "node": 2, "socket": 4, "core": 16},
			duration: 1800.5, seconds: 1801, queue: "batch",
		},
		{
			// node:1 > (slot reader:10 > (core:1, memory:4), slot db:1 > (core:6, memory:24)):
			// 11 slots, 10+6 = 16 cores, 40+24 = 64 GB; Slots names the first.
			file: "canonical_two_slots.yaml", version: 999, slots: 11, slotLabel: "reader",
			totals:   map[string]int64{"node": 1, "slot": 11, "core": 16, "memory": 64},
			duration: 60, seconds: 60,
		},
		{
			// attributes with no value: duration 0 (unlimited).
			file: "canonical_null_attributes.yaml", version: 2, slots: 3, slotLabel: "s",
			totals: map[string]int64{"slot": 3, "node": 3},
		},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			js := readJobspec(t, filepath.Join("testdata/valid", tt.file))
			if js.Version != tt.version {
				t.Errorf("Version = %d, want %d", js.Version, tt.version)
			}
			n, slot := js.Slots()
			if n != tt.slots || slot == nil || slot.Label != tt.slotLabel {
				t.Errorf("Slots() = %d, %+v; want %d, label %q", n, slot, tt.slots, tt.slotLabel)
			}
			if got := js.Totals(); !reflect.DeepEqual(got, tt.totals) {
				t.Errorf("Totals() = %v, want %v", got, tt.totals)
			}
			if js.Duration != tt.duration || js.DurationSeconds != tt.seconds {
				t.Errorf("Duration = %v (%d s), want %v (%d s)", js.Duration, js.DurationSeconds, tt.duration, tt.seconds)
			}
			if js.Queue != tt.queue {
				t.Errorf("Queue = %q, want %q", js.Queue, tt.queue)
			}
		})
	}
	files, _ := filepath.Glob("testdata/valid/*")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no row in the table", f)
		}
	}
}

// TestParseJobspecDetails checks the fields the table above does not.
func TestParseJobspecDetails(t *testing.T) {
	js := readJobspec(t, "testdata/valid/canonical_range.yaml")
	slot := js.Resources[0]
	if want := (Count{Min: 2, Max: 8, Operator: "*", Operand: 2}); slot.Count != want {
		t.Errorf("slot count = %+v, want %+v", slot.Count, want)
	}
	task := js.Tasks[0]
	if !reflect.DeepEqual(task.Command, []string{"flux", "start"}) || task.Slot != "nodes" ||
		task.Count != (TaskCount{PerSlot: 1}) || task.Distribution != "block" {
		t.Errorf("task = %+v", task)
	}
	wantC := map[string]any{"and": []any{
		map[string]any{"properties": []any{"ib", "^slow"}},
		map[string]any{"not": []any{map[string]any{"ranks": []any{0}}}},
	}}
	if !reflect.DeepEqual(js.Constraints, wantC) {
		t.Errorf("Constraints = %#v", js.Constraints)
	}
	if want := map[string]any{"shell": map[string]any{"options": map[string]any{"verbose": 1}}}; !reflect.DeepEqual(js.System, want) {
		t.Errorf("System = %#v", js.System)
	}
	if want := map[string]any{"owner": "alice", "tags": []any{"a", "b"}}; !reflect.DeepEqual(js.User, want) {
		t.Errorf("User = %#v", js.User)
	}

	js = readJobspec(t, "testdata/valid/canonical_two_slots.yaml")
	if want := map[string]any{"nice": 5, "role": "reader"}; !reflect.DeepEqual(js.Tasks[0].Attributes, want) {
		t.Errorf("task attributes = %#v", js.Tasks[0].Attributes)
	}
	if got := js.Tasks[1].Count.PerResource; got == nil || *got != (PerResource{Type: "core", Count: 1}) {
		t.Errorf("per_resource = %+v", got)
	}
	if got := js.Resources[0].With[0].With[1]; got.Unit != "GB" || got.Count.Min != 4 {
		t.Errorf("memory = %+v", got)
	}

	js = readJobspec(t, "testdata/valid/canonical_null_attributes.yaml")
	if c := js.Resources[0].Count; c != (Count{Min: 3, Max: CountUnbounded, Operator: "+", Operand: 1}) {
		t.Errorf("{min: 3} = %+v", c)
	}
	if js.Tasks[0].Count != (TaskCount{Total: 5}) || js.Constraints != nil || js.System != nil || js.User != nil {
		t.Errorf("jobspec = %+v", js)
	}

	js = readJobspec(t, "testdata/valid/v1_node_slot_core.yaml")
	if want := map[string]any{"cwd": "/home/user", "environment": map[string]any{"OMP_NUM_THREADS": "2"}}; !reflect.DeepEqual(js.System, want) {
		t.Errorf("System = %#v", js.System)
	}
}

// TestParseJobspecExclusive: slots and what they hold are exclusive, as is
// everything below exclusive: true; the rest is shared.
func TestParseJobspecExclusive(t *testing.T) {
	type flags struct{ excl, set bool }
	collect := func(js *Jobspec) map[string]flags {
		out := map[string]flags{}
		var walk func(rs []*Resource)
		walk = func(rs []*Resource) {
			for _, r := range rs {
				out[r.Type] = flags{r.Exclusive, r.ExclusiveSet}
				walk(r.With)
			}
		}
		walk(js.Resources)
		return out
	}
	tests := []struct {
		file string
		want map[string]flags
	}{
		{"fluence_zone.yaml", map[string]flags{
			"subnet": {false, false}, "node": {false, false}, // outside the slot: shared
			"slot": {true, false}, "core": {true, false}, "memory": {true, false},
		}},
		{"v1_node_slot_core_gpu_memory.json", map[string]flags{
			"node": {true, true}, // exclusive: true
			"slot": {true, false}, "core": {true, false}, "gpu": {true, false}, "memory": {true, false},
		}},
		{"canonical_null_attributes.yaml", map[string]flags{
			"slot": {true, false}, "node": {true, true}, // true inside a slot is allowed
		}},
	}
	for _, tt := range tests {
		js := readJobspec(t, filepath.Join("testdata/valid", tt.file))
		if got := collect(js); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: exclusivity = %v, want %v", tt.file, got, tt.want)
		}
	}

	// Exclusivity propagates from an exclusive node outside any slot.
	js, err := ParseJobspec([]byte(`
version: 9999
resources:
  - type: node
    count: 1
    exclusive: true
    with:
      - type: socket
        count: 1
        with:
          - type: slot
            count: 1
            label: s
            with: [{type: core, count: 1}]
  - type: switch
    count: 1
tasks: [{command: [a], slot: s, count: {per_slot: 1}}]
attributes: {}
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s := js.Resources[0].With[0]; !s.Exclusive || s.ExclusiveSet {
		t.Errorf("socket below exclusive node: %+v", s)
	}
	if sw := js.Resources[1]; sw.Exclusive {
		t.Errorf("switch: %+v", sw)
	}
}

// TestParseJobspecInvalid: every file in testdata/invalid starts with
// "# want: <exact error>". Run with -jobspec.update to rewrite those lines.
func TestParseJobspecInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) < 20 {
		t.Fatalf("want ≥ 20 invalid cases, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line must be # want: <error>, got %q", first)
			}
			js, err := ParseJobspec(data, filepath.Base(f))
			if err == nil {
				t.Fatalf("accepted: %+v", js)
			}
			var je *JobspecError
			if !errors.As(err, &je) {
				t.Errorf("error %T is not a *JobspecError", err)
			}
			if *updateJobspec {
				rest := strings.TrimPrefix(string(data), first)
				if err := os.WriteFile(f, []byte("# want: "+err.Error()+rest), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err.Error() != want {
				t.Errorf("error\n got: %s\nwant: %s", err, want)
			}
		})
	}
}

// TestParseJobspecInvalidInline covers inputs that do not fit a commented
// YAML file: JSON, odd bytes, and names.
func TestParseJobspecInvalidInline(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"job.json", `"jobspec"`, `job.json:1: a jobspec must be a mapping with keys version, resources, tasks, attributes, got "jobspec"`},
		{"job.json", "{\n\t\"version\": 1,\n\t\"resources\": [{\"type\": \"slot\", \"count\": 1, \"label\": \"x\", \"with\": [{\"type\": \"core\", \"count\": 1}]}],\n\t\"tasks\": [{\"command\": [\"a\"], \"slot\": \"x\", \"count\": {\"per_slot\": 1}}],\n\t\"attributes\": {\"system\": {\"duration\": \"60\"}}\n}",
			`job.json:5: attributes.system.duration: must be a finite number of seconds ≥ 0, got "60"`},
		{"job.json", `{"version": 1, "resources": [`, "job.json:1: YAML: did not find expected node content"},
		{"", "version: 0\nresources: []\ntasks: []\nattributes: {}\n", "line 1: version: must be an integer from 1 to 9999, got 0"},
		{"job.yaml", "version: \xff\n", "job.yaml: YAML: invalid leading UTF-8 octet"},
		{"job.yaml", "   \n\n", "job.yaml: empty document; a jobspec needs version, resources, tasks and attributes"},
		{"job.yaml", "? [a]\n: 1\n", `job.yaml:1: keys must be strings, got a list`},
	}
	for _, tt := range tests {
		_, err := ParseJobspec([]byte(tt.data), tt.name)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseJobspec(%q):\n got: %v\nwant: %s", tt.data, err, tt.want)
		}
	}
}

func TestJobspecErrorFormat(t *testing.T) {
	tests := []struct {
		err  JobspecError
		want string
	}{
		{JobspecError{File: "job.yaml", Line: 7, Path: "resources[0].with[0].count", Msg: "m"}, "job.yaml:7: resources[0].with[0].count: m"},
		{JobspecError{File: "job.yaml", Path: "tasks", Msg: "m"}, "job.yaml: tasks: m"},
		{JobspecError{Line: 3, Msg: "m"}, "line 3: m"},
		{JobspecError{Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	syntax := errors.New("yaml: boom")
	if e := (&JobspecError{Err: syntax}); !errors.Is(e, syntax) {
		t.Error("JobspecError does not unwrap to its YAML error")
	}
}

// TestParseJobspecVersionRelaxed: one shape, legal in version 9999 and
// refused in version 1, shows each relaxed check.
func TestParseJobspecVersionRelaxed(t *testing.T) {
	const body = `
resources:
  - type: cluster
    count: 1
    with:
      - type: slot
        count: {min: 1, max: 4, operator: "+", operand: 1}
        label: s
        with:
          - {type: socket, count: 1, id: "0", exclusive: true, with: [{type: core, count: 2}]}
tasks:
  - {command: [a], slot: s, count: {per_slot: 3}}
  - {command: [b], slot: s, count: {per_resource: {type: core, count: 1}}}
attributes: {}
`
	if _, err := ParseJobspec([]byte("version: 9999"+body), "x.yaml"); err != nil {
		t.Fatalf("version 9999: %v", err)
	}
	_, err := ParseJobspec([]byte("version: 1"+body), "x.yaml")
	if want := `x.yaml:7: resources[0].with[0].count: must be an integer ≥ 1 (version 1 has no count ranges), got a mapping`; err == nil || err.Error() != want {
		t.Errorf("version 1:\n got: %v\nwant: %s", err, want)
	}
}

// TestMarshalJobspecRoundTrip: writing a parsed jobspec and parsing it
// again gives the same jobspec.
func TestMarshalJobspecRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*")
	for _, f := range files {
		js := readJobspec(t, f)
		out, err := MarshalJobspec(js)
		if err != nil {
			t.Fatalf("%s: MarshalJobspec: %v", f, err)
		}
		back, err := ParseJobspec(out, "out.yaml")
		if err != nil {
			t.Fatalf("%s: reparse: %v\n%s", f, err, out)
		}
		if !reflect.DeepEqual(js, back) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v\n%s", f, js, back, out)
		}
	}
}

func TestMarshalJobspecFluence(t *testing.T) {
	js := readJobspec(t, "testdata/valid/fluence_core_memory_gpu.yaml")
	out, err := MarshalJobspec(js)
	if err != nil {
		t.Fatal(err)
	}
	const want = `version: 9999
resources:
  - type: slot
    count: 3
    label: default
    with:
      - type: core
        count: 8
      - type: memory
        count: 16384
      - type: gpu
        count: 1
tasks:
  - command: [trainer]
    slot: default
    count:
      per_slot: 1
attributes:
  system:
    duration: 3600
`
	if string(out) != want {
		t.Errorf("MarshalJobspec:\n%s\nwant:\n%s", out, want)
	}
}

func TestJobspecTotalsSaturate(t *testing.T) {
	big := Count{Min: CountUnbounded, Max: CountUnbounded, Operator: "+", Operand: 1}
	js := &Jobspec{Resources: []*Resource{{Type: "a", Count: big, With: []*Resource{{
		Type: "b", Count: big, With: []*Resource{{Type: "slot", Count: big}},
	}}}}}
	if got := js.Totals()["slot"]; got != math.MaxInt64 {
		t.Errorf("Totals()[slot] = %d, want saturation at MaxInt64", got)
	}
	if n, _ := js.Slots(); n != math.MaxInt64 {
		t.Errorf("Slots() = %d, want saturation", n)
	}
	if n, s := (&Jobspec{}).Slots(); n != 0 || s != nil {
		t.Errorf("empty Slots() = %d, %v", n, s)
	}
}

// FuzzParseJobspec: no input panics; an accepted jobspec satisfies the
// invariants the matcher relies on, and writing it is a fixed point after
// one round (the raw attribute values may hold NaN, so bytes are compared).
func FuzzParseJobspec(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// Hostile seeds: a long key and value, a huge count, NUL bytes,
	// invalid UTF-8, an alias bomb.
	f.Add([]byte("version: 1\n" + strings.Repeat("k", 3000) + ": " + strings.Repeat("v", 3000) + "\n"))
	f.Add([]byte("version: 1\nresources:\n  - type: node\n    count: 99999999999999999999999999\ntasks: []\nattributes: {}\n"))
	f.Add([]byte("\x00\x00\xff\xfe"))
	f.Add([]byte("a: &a [*a, *a, *a]\nb: &b [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		js, err := ParseJobspec(data, "fuzz.yaml")
		if err != nil {
			var je *JobspecError
			if !errors.As(err, &je) {
				t.Fatalf("error %T is not a *JobspecError: %v", err, err)
			}
			if len(err.Error()) > 2000 {
				t.Fatalf("a %d-byte message", len(err.Error()))
			}
			return
		}
		checkJobspecInvariants(t, js)
		out, err := MarshalJobspec(js)
		if err != nil {
			t.Fatalf("MarshalJobspec: %v", err)
		}
		back, err := ParseJobspec(out, "out.yaml")
		if err != nil {
			t.Fatalf("reparse: %v\ninput:\n%s\noutput:\n%s", err, data, out)
		}
		again, err := MarshalJobspec(back)
		if err != nil {
			t.Fatalf("MarshalJobspec again: %v", err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not a fixed point:\n%s\n---\n%s", out, again)
		}
	})
}

func checkJobspecInvariants(t *testing.T, js *Jobspec) {
	t.Helper()
	if js.Version < MinJobspecVersion || js.Version > MaxJobspecVersion {
		t.Fatalf("Version %d", js.Version)
	}
	if len(js.Resources) == 0 || len(js.Tasks) == 0 {
		t.Fatal("no resources or no tasks")
	}
	if n, slot := js.Slots(); n < 1 || slot == nil {
		t.Fatalf("Slots() = %d, %v", n, slot)
	}
	if js.Duration < 0 || math.IsNaN(js.Duration) || math.IsInf(js.Duration, 0) ||
		float64(js.DurationSeconds) < js.Duration || float64(js.DurationSeconds) >= js.Duration+1 {
		t.Fatalf("Duration %v, DurationSeconds %d", js.Duration, js.DurationSeconds)
	}
	var walk func(rs []*Resource, excl bool)
	walk = func(rs []*Resource, excl bool) {
		for _, r := range rs {
			c := r.Count
			if r.Type == "" || c.Min < 1 || c.Max < c.Min || c.Max > CountUnbounded || !c.Accepts(c.Min) {
				t.Fatalf("resource %+v", r)
			}
			if r.Type == "slot" && (r.Label == "" || len(r.With) == 0 || !r.Exclusive) {
				t.Fatalf("slot %+v", r)
			}
			if excl && !r.Exclusive {
				t.Fatalf("%s below an exclusive vertex is shared", r.Type)
			}
			walk(r.With, r.Exclusive)
		}
	}
	walk(js.Resources, false)
	for _, task := range js.Tasks {
		n := 0
		for _, v := range []bool{task.Count.PerSlot > 0, task.Count.Total > 0, task.Count.PerResource != nil} {
			if v {
				n++
			}
		}
		if n != 1 || len(task.Command) == 0 {
			t.Fatalf("task %+v", task)
		}
	}
}
