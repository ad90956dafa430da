package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	k8syaml "sigs.k8s.io/yaml"
)

// runEmit runs `sim sweep emit ARGS...` and returns standard output,
// standard error and the error.
func runEmit(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(append([]string{"sweep", "emit"}, args...))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// emitFixture lays out a sweep over a copy of a bundled scenario that
// names a network profile and an app model:
//
//	DIR/sweeps/gangs.yaml   the sweep: base ../scenarios/..., an axis of profiles
//	DIR/scenarios/small-cluster-gangs.yaml and the files it names
//
// and returns DIR, the sweep's path and the files (relative to DIR)
// the inputs must hold.
func emitFixture(t *testing.T) (dir, sweep string, want []string) {
	t.Helper()
	dir = t.TempDir()
	copies := []string{
		"small-cluster-gangs.yaml",
		"profiles/vm-tcp.yaml", "apps/lammps.yaml", // named by the scenario
		"profiles/local-veth.yaml", // named by the sweep's axis only
	}
	for _, f := range copies {
		data, err := os.ReadFile(filepath.Join("../../scenarios", f))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(dir, "scenarios", f), data)
		want = append(want, "scenarios/"+f)
	}
	// Not named anywhere: must stay out.
	writeTestFile(t, filepath.Join(dir, "scenarios", "profiles", "unused.yaml"), []byte("kind: NetworkProfile\n"))
	sweep = filepath.Join(dir, "sweeps", "gangs.yaml")
	writeTestFile(t, sweep, []byte(`version: 1
name: Gangs and profiles
base: ../scenarios/small-cluster-gangs.yaml
axes:
  - path: network.profile
    values: [profiles/vm-tcp.yaml, profiles/local-veth.yaml]
  - path: policy.name
    values: [kube, fluence]
  - seeds: 2
`))
	want = append(want, "sweeps/gangs.yaml")
	return dir, sweep, want
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// splitDocs splits a multi-document YAML stream.
func splitDocs(s string) []string {
	var docs []string
	for _, d := range regexp.MustCompile(`(?m)^---\n`).Split(s, -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(d, "")) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

// expandK8s expands $(VAR) in s as the kubelet does for a container's
// args ($$ is a literal $); unknown variables stay as written.
func expandK8s(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) {
			if s[i+1] == '$' {
				b.WriteByte('$')
				i++
				continue
			}
			if s[i+1] == '(' {
				if j := strings.IndexByte(s[i:], ')'); j > 0 {
					if v, ok := env[s[i+2:i+j]]; ok {
						b.WriteString(v)
						i += j
						continue
					}
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestEmitKubernetes(t *testing.T) {
	dir, sweep, want := emitFixture(t)
	const shards = 5
	out, _, err := runEmit(t, "kubernetes", sweep, "--shards", strconv.Itoa(shards), "--image", "registry.example/converge:v1",
		"--volume", "sweep-results", "--cpu", "2", "--memory", "3Gi", "--parallelism", "3", "--namespace", "sims")
	if err != nil {
		t.Fatalf("emit: %v", err)
	}
	docs := splitDocs(out)
	if len(docs) != 2 {
		t.Fatalf("want 2 documents (ConfigMap, Job), got %d:\n%s", len(docs), out)
	}
	var cm corev1.ConfigMap
	if err := k8syaml.UnmarshalStrict([]byte(docs[0]), &cm); err != nil {
		t.Fatalf("ConfigMap: %v\n%s", err, docs[0])
	}
	var job batchv1.Job
	if err := k8syaml.UnmarshalStrict([]byte(docs[1]), &job); err != nil {
		t.Fatalf("Job: %v\n%s", err, docs[1])
	}

	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" {
		t.Errorf("ConfigMap apiVersion/kind = %s/%s", cm.APIVersion, cm.Kind)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Errorf("Job apiVersion/kind = %s/%s", job.APIVersion, job.Kind)
	}
	if job.Name != "gangs-and-profiles" || cm.Name != "gangs-and-profiles-inputs" || job.Namespace != "sims" || cm.Namespace != "sims" {
		t.Errorf("names: job %s/%s, ConfigMap %s/%s", job.Namespace, job.Name, cm.Namespace, cm.Name)
	}
	sp := job.Spec
	if sp.CompletionMode == nil || *sp.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode = %v, want Indexed", sp.CompletionMode)
	}
	if sp.Completions == nil || *sp.Completions != shards {
		t.Errorf("completions = %v, want %d", sp.Completions, shards)
	}
	if sp.Parallelism == nil || *sp.Parallelism != 3 {
		t.Errorf("parallelism = %v, want 3", sp.Parallelism)
	}
	if sp.BackoffLimitPerIndex == nil || *sp.BackoffLimitPerIndex != 2 {
		t.Errorf("backoffLimitPerIndex = %v, want 2", sp.BackoffLimitPerIndex)
	}
	// Exit 2 and 3 fail the index at once; disruptions are not counted.
	if pfp := sp.PodFailurePolicy; pfp == nil || len(pfp.Rules) != 2 ||
		pfp.Rules[0].Action != batchv1.PodFailurePolicyActionFailIndex || pfp.Rules[0].OnExitCodes == nil ||
		fmt.Sprint(pfp.Rules[0].OnExitCodes.Values) != fmt.Sprint([]int32{exitUsage, exitInternal}) ||
		*pfp.Rules[0].OnExitCodes.ContainerName != "sim" || pfp.Rules[0].OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn ||
		pfp.Rules[1].Action != batchv1.PodFailurePolicyActionIgnore || len(pfp.Rules[1].OnPodConditions) != 1 ||
		pfp.Rules[1].OnPodConditions[0].Type != corev1.DisruptionTarget {
		t.Errorf("podFailurePolicy = %+v", sp.PodFailurePolicy)
	}
	pod := sp.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never (backoffLimitPerIndex needs it)", pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "registry.example/converge:v1" {
		t.Errorf("image = %q", c.Image)
	}
	if got := c.Resources.Requests[corev1.ResourceCPU]; got.Cmp(resource.MustParse("2")) != 0 {
		t.Errorf("cpu request = %s, want 2", got.String())
	}
	if got := c.Resources.Requests[corev1.ResourceMemory]; got.Cmp(resource.MustParse("3Gi")) != 0 {
		t.Errorf("memory request = %s, want 3Gi", got.String())
	}

	// The completion index comes from the pod's annotation.
	var fromAnnotation bool
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			fromAnnotation = true
		}
	}
	if !fromAnnotation {
		t.Errorf("no JOB_COMPLETION_INDEX from the completion-index annotation in %+v", c.Env)
	}

	// Volumes: the claim at /results, the ConfigMap at /sweep.
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	res, ok := vols[mounts["/results"]]
	if !ok || res.PersistentVolumeClaim == nil || res.PersistentVolumeClaim.ClaimName != "sweep-results" {
		t.Errorf("/results is not the claim sweep-results: mounts %v, volumes %+v", mounts, pod.Volumes)
	}
	in, ok := vols[mounts["/sweep"]]
	if !ok || in.ConfigMap == nil || in.ConfigMap.Name != cm.Name {
		t.Fatalf("/sweep is not the ConfigMap %s: mounts %v, volumes %+v", cm.Name, mounts, pod.Volumes)
	}

	// The ConfigMap holds exactly the sweep and the files it names, at
	// their places relative to each other; materialize the volume as
	// the kubelet would and check the scenario loads from it alone.
	pod0 := t.TempDir()
	var got []string
	for _, it := range in.ConfigMap.Items {
		data, ok := cm.Data[it.Key]
		if !ok {
			t.Errorf("item %s: no key %s in the ConfigMap", it.Path, it.Key)
			continue
		}
		got = append(got, it.Path)
		orig, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(it.Path)))
		if err != nil || string(orig) != data {
			t.Errorf("%s: ConfigMap data differs from the file (%v)", it.Path, err)
		}
		dst := filepath.Join(pod0, "sweep", filepath.FromSlash(it.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, []byte(data), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, " ") != strings.Join(sortedCopy(want), " ") {
		t.Errorf("ConfigMap files:\n got %v\nwant %v", got, sortedCopy(want))
	}
	if len(cm.Data) != len(in.ConfigMap.Items) {
		t.Errorf("%d keys but %d items", len(cm.Data), len(in.ConfigMap.Items))
	}
	// Pod i runs shard i of N into /results/shard-i, in the sweep's folder.
	if c.WorkingDir != "/sweep/sweeps" {
		t.Errorf("workingDir = %q, want /sweep/sweeps", c.WorkingDir)
	}
	// Run every pod's command as the kubelet would (its arguments
	// expanded, in its working folder with the ConfigMap's files), the
	// claim being a local folder; merged, the shards must give the table
	// of the same sweep run here in one go.
	results := t.TempDir()
	var shardDirs []string
	for i := 0; i < shards; i++ {
		env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)}
		var argv []string
		for _, a := range append(append([]string{}, c.Command...), c.Args...) {
			argv = append(argv, expandK8s(a, env))
		}
		wantArgv := []string{"sim", "sweep", "gangs.yaml", "--shard", strconv.Itoa(i) + "/" + strconv.Itoa(shards),
			"-o", "/results/shard-" + strconv.Itoa(i), "-j", "2", "--resume"}
		if strings.Join(argv, "\x00") != strings.Join(wantArgv, "\x00") {
			t.Errorf("pod %d runs %q, want %q", i, argv, wantArgv)
			continue
		}
		for k, a := range argv {
			if rest, ok := strings.CutPrefix(a, "/results/"); ok {
				argv[k] = filepath.Join(results, rest)
				shardDirs = append(shardDirs, argv[k])
			}
		}
		t.Chdir(filepath.Join(pod0, filepath.FromSlash(c.WorkingDir)))
		if o, err := runCmd(t, argv[1:]...); err != nil {
			t.Fatalf("pod %d: %v\n%s", i, err, o)
		}
	}
	t.Chdir(dir)
	merged, single := filepath.Join(t.TempDir(), "merged"), filepath.Join(t.TempDir(), "single")
	if o, err := runCmd(t, append(append([]string{"sweep", "merge"}, shardDirs...), "-o", merged, "-q")...); err != nil {
		t.Fatalf("merge: %v\n%s", err, o)
	}
	if o, err := runCmd(t, "sweep", sweep, "-o", single, "-q", "-j", "1"); err != nil {
		t.Fatalf("sweep: %v\n%s", err, o)
	}
	for _, f := range []string{"sweep.csv", "summary.txt"} {
		a, errA := os.ReadFile(filepath.Join(merged, f))
		b, errB := os.ReadFile(filepath.Join(single, f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s of the merged pods differs from the single-machine sweep's (%v, %v)", f, errA, errB)
		}
	}
	if rows := strings.Count(readString(t, filepath.Join(merged, "sweep.csv")), "\n"); rows != 1+8 {
		t.Errorf("merged sweep.csv has %d lines, want a header and 8 points", rows)
	}

	// Same inputs, same bytes.
	again, _, err := runEmit(t, "kubernetes", sweep, "--shards", strconv.Itoa(shards), "--image", "registry.example/converge:v1",
		"--volume", "sweep-results", "--cpu", "2", "--memory", "3Gi", "--parallelism", "3", "--namespace", "sims")
	if err != nil || again != out {
		t.Errorf("a second emit differs (err %v)", err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sortedCopy(xs []string) []string {
	c := append([]string{}, xs...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func TestEmitKubernetesDefaultsAndNoConfigMap(t *testing.T) {
	_, sweep, _ := emitFixture(t)
	out, _, err := runEmit(t, "kubernetes", sweep, "--shards", "4", "--image", "img", "--volume", "res",
		"--no-configmap", "--workdir", "/opt/sweeps", "--cpu", "500m")
	if err != nil {
		t.Fatal(err)
	}
	docs := splitDocs(out)
	if len(docs) != 1 {
		t.Fatalf("--no-configmap: want only the Job, got %d documents", len(docs))
	}
	var job batchv1.Job
	if err := k8syaml.UnmarshalStrict([]byte(docs[0]), &job); err != nil {
		t.Fatal(err)
	}
	if *job.Spec.Parallelism != 4 || *job.Spec.Completions != 4 {
		t.Errorf("parallelism %d completions %d, want 4 and 4 (parallelism defaults to N)", *job.Spec.Parallelism, *job.Spec.Completions)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if c.WorkingDir != "/opt/sweeps" || len(job.Spec.Template.Spec.Volumes) != 1 {
		t.Errorf("workingDir %q, volumes %+v", c.WorkingDir, job.Spec.Template.Spec.Volumes)
	}
	// Half a core still runs one worker; the sweep's path is as given.
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, " -j 1 ") || c.Args[1] != filepath.ToSlash(sweep) {
		t.Errorf("args %q", c.Args)
	}
}

func TestEmitKubernetesWritesFile(t *testing.T) {
	_, sweep, _ := emitFixture(t)
	dst := filepath.Join(t.TempDir(), "job.yaml")
	args := []string{"kubernetes", sweep, "--shards", "2", "--image", "img", "--volume", "res", "-o", dst}
	if _, _, err := runEmit(t, args...); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(dst)
	if err != nil || !strings.Contains(string(first), "kind: Job") {
		t.Fatalf("no manifest in %s: %v", dst, err)
	}
	_, _, err = runEmit(t, args...)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second emit into the same file: %v (code %d), want exit 2 naming --force", err, exitCode(err))
	}
	if _, _, err := runEmit(t, append(args, "--force")...); err != nil {
		t.Errorf("--force: %v", err)
	}
}

// TestEmitFlux runs the emitted lines through /bin/sh with a flux that
// prints its arguments, so that the quoting is checked as a shell reads it.
func TestEmitFlux(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	sweep := filepath.Join(dir, "my sweeps", "gangs.yaml") // a space, to be quoted
	base, err := os.ReadFile(scenario)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "my sweeps", "kube-basic.yaml"), base)
	writeTestFile(t, sweep, []byte("version: 1\nname: gangs\nbase: kube-basic.yaml\naxes:\n  - seeds: 4\n"))
	const n = 4
	out, _, err := runEmit(t, "flux", sweep, "--shards", strconv.Itoa(n), "--cores", "3", "--results", "res dir")
	if err != nil {
		t.Fatal(err)
	}
	var submit, bulk string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "flux submit "):
			submit = l
		case strings.HasPrefix(l, "# flux bulksubmit "):
			bulk = strings.TrimPrefix(l, "# ")
		}
	}
	if submit == "" || bulk == "" {
		t.Fatalf("no flux submit or flux bulksubmit line:\n%s", out)
	}
	words := func(line string) []string {
		script := "flux() { printf '%s\\n' \"$@\"; }\n" + line + "\n"
		o, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Fatalf("sh: %v on %s", err, line)
		}
		return strings.Split(strings.TrimSuffix(string(o), "\n"), "\n")
	}
	resources := []string{"-N1", "-n1", "-c3", "--job-name=gangs"}
	command := func(id string) []string {
		return []string{"sim", "sweep", sweep, "--shard", id + "/4", "-o", filepath.Join("res dir", "shard-"+id), "-j", "3"}
	}
	wantSubmit := append(append([]string{"submit", "--cc=0-3"}, resources...), command("{cc}")...)
	if got := words(submit); strings.Join(got, "\x00") != strings.Join(wantSubmit, "\x00") {
		t.Errorf("flux submit:\n got %q\nwant %q", got, wantSubmit)
	}
	wantBulk := append(append(append([]string{"bulksubmit"}, resources...), command("{}")...), ":::", "0", "1", "2", "3")
	if got := words(bulk); strings.Join(got, "\x00") != strings.Join(wantBulk, "\x00") {
		t.Errorf("flux bulksubmit:\n got %q\nwant %q", got, wantBulk)
	}
	// flux replaces {cc} (or {}) by each id: the N jobs run shards 0..N-1.
	for i := 0; i < n; i++ {
		var got []string
		for _, w := range words(submit)[2+len(resources):] {
			got = append(got, strings.ReplaceAll(w, "{cc}", strconv.Itoa(i)))
		}
		if strings.Join(got, "\x00") != strings.Join(command(strconv.Itoa(i)), "\x00") {
			t.Errorf("job %d runs %q", i, got)
		}
	}

	// One shard: an idset of one id.
	out, _, err = runEmit(t, "flux", sweep, "--shards", "1")
	if err != nil || !strings.Contains(out, "--cc=0 ") || !strings.Contains(out, "out/gangs/shard-") {
		t.Errorf("--shards 1: %v\n%s", err, out)
	}
}

func TestEmitBadInput(t *testing.T) {
	_, sweep, _ := emitFixture(t)
	notSweep := filepath.Join(t.TempDir(), "scenario.yaml")
	writeTestFile(t, notSweep, []byte("version: 1\nname: x\nbase: a.yaml\naxes:\n  - path: policy.name\n    valeus: [kube]\n"))
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(t.TempDir(), "abs.yaml")
	absBase := filepath.Join(filepath.Dir(sweep), "..", "scenarios", "small-cluster-gangs.yaml")
	if err := os.WriteFile(abs, []byte("version: 1\nbase: "+absBase+"\naxes:\n  - seeds: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k8s := []string{"--image", "img", "--volume", "res"}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"kubernetes", sweep, "--shards", "0", "--image", "i", "--volume", "v"}, "--shards must be from 1"},
		{[]string{"flux", sweep, "--shards", "-3"}, "--shards must be from 1"},
		{[]string{"flux", sweep}, "--shards N is required"},
		{[]string{"slurm", sweep, "--shards", "2"}, `unknown target "slurm" (valid: kubernetes, flux)`},
		{[]string{}, "needs a target"},
		{append([]string{"kubernetes", missing, "--shards", "2"}, k8s...), "nope.yaml: no such sweep file"},
		{[]string{"flux", missing, "--shards", "2"}, "nope.yaml: no such sweep file"},
		{[]string{"flux", bad, "--shards", "2"}, "bad.yaml:1: did not find expected"},
		{[]string{"kubernetes", sweep, "--shards", "2", "--volume", "v"}, "--image is required"},
		{[]string{"kubernetes", sweep, "--shards", "2", "--image", "i"}, "--volume is required"},
		{append([]string{"kubernetes", sweep, "--shards", "2", "--parallelism", "3"}, k8s...), "--parallelism must be from 1 to --shards (2)"},
		{append([]string{"kubernetes", sweep, "--shards", "2", "--cpu", "lots"}, k8s...), `--cpu "lots"`},
		{append([]string{"kubernetes", sweep, "--shards", "2", "--name", "Not_A_Name"}, k8s...), `--name "Not_A_Name"`},
		{append([]string{"kubernetes", abs, "--shards", "2"}, k8s...), "an absolute path a pod cannot see"},
		{[]string{"kubernetes", sweep, "sweep2", "--shards", "2"}, "exactly 1 argument"},
		{[]string{"flux", sweep, "--shards", "2", "--cores", "0"}, "--cores must be at least 1"},
		{[]string{"flux", sweep, "--shards", "9"}, "--shards 9 is more than the sweep's 8 points"},
		{[]string{"flux", notSweep, "--shards", "2"}, "scenario.yaml:6"},
	} {
		stdout, _, err := runEmit(t, tc.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: err %v (exit %d), want exit 2 with %q", tc.args, err, exitCode(err), tc.msg)
		}
		if stdout != "" {
			t.Errorf("%q: wrote %q despite the error", tc.args, stdout)
		}
	}
	// Through main's run(), as a user sees it.
	var out, errOut bytes.Buffer
	if code := run([]string{"sweep", "emit", "kubernetes", missing, "--shards", "2", "--image", "i", "--volume", "v"}, &out, &errOut); code != exitUsage || !strings.Contains(errOut.String(), "no such sweep file") {
		t.Errorf("run: exit %d, stderr %q", code, errOut.String())
	}
}

func TestEmitConfigMapTooLarge(t *testing.T) {
	dir := t.TempDir()
	base, err := os.ReadFile(scenario)
	if err != nil {
		t.Fatal(err)
	}
	// A base scenario of more than the 1 MiB a ConfigMap holds.
	pad := bytes.Repeat([]byte("# a long comment line, to make the scenario large\n"), configMapMaxBytes/50+10)
	writeTestFile(t, filepath.Join(dir, "big-scenario.yaml"), append(base, pad...))
	sweep := filepath.Join(dir, "sweep.yaml")
	writeTestFile(t, sweep, []byte("version: 1\nbase: big-scenario.yaml\naxes:\n  - seeds: 2\n"))
	_, _, err = runEmit(t, "kubernetes", sweep, "--shards", "2", "--image", "i", "--volume", "v")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "more than a ConfigMap holds") || !strings.Contains(err.Error(), "big-scenario.yaml") {
		t.Errorf("err %v (exit %d), want exit 2 naming big-scenario.yaml and the ConfigMap limit", err, exitCode(err))
	}
	if _, _, err := runEmit(t, "kubernetes", sweep, "--shards", "2", "--image", "i", "--volume", "v", "--no-configmap"); err != nil {
		t.Errorf("--no-configmap: %v", err)
	}
}
