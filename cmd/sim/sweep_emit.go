package main

// sim sweep emit: the sweep's shards as jobs of an existing cluster
// engine. Kubernetes gets a batch/v1 Indexed Job whose pod i runs shard
// i/N (the completion index is the shard) into a shared volume, with a
// ConfigMap holding the sweep file and every file it names; Flux gets
// the `flux submit --cc` and `flux bulksubmit` lines for the same.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/convergesim/converge/scenarios"
)

// `sim sweep emit` is a subcommand of `sim sweep`.
func init() { sweepSubcommands = append(sweepSubcommands, newSweepEmitCmd) }

const (
	// emitResultsDir is where the results volume is mounted in a pod.
	emitResultsDir = "/results"
	// emitInputsDir is where the inputs ConfigMap is mounted in a pod.
	emitInputsDir = "/sweep"
	// configMapMaxBytes is the Kubernetes limit on a ConfigMap's data
	// (data and binaryData values together).
	configMapMaxBytes = 1 << 20
	// emitMaxShards bounds --shards: an Indexed Job with
	// backoffLimitPerIndex takes at most 100,000 completions.
	emitMaxShards = 100000
	// jobCompletionIndexEnv is the variable Kubernetes sets to the
	// completion index in the pods of an Indexed Job.
	jobCompletionIndexEnv = "JOB_COMPLETION_INDEX"
	// emitParseLimit: named files larger than this are bundled but not
	// searched for further file names.
	emitParseLimit = 1 << 20
)

// emitFlags are the flags every emit target shares.
type emitFlags struct {
	shards int
	out    string
	force  bool
	name   string
	sim    string
	jobs   int
}

func addEmitFlags(cmd *cobra.Command, f *emitFlags) {
	cmd.Flags().IntVar(&f.shards, "shards", 0, "number of shards N (required): job i runs `sim sweep SWEEP --shard i/N`")
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "write to this file (default: standard output)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace an existing output file")
	cmd.Flags().StringVar(&f.name, "name", "", "job name (default: the sweep's name, else its file name)")
	cmd.Flags().StringVar(&f.sim, "sim", "sim", "the sim command where the jobs run")
	cmd.Flags().IntVarP(&f.jobs, "jobs", "j", 0, "parallel workers in each job, passed as -j (default: the cores each job asks for)")
}

// newSweepEmitCmd is `sim sweep emit`, with one subcommand per target.
func newSweepEmitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "emit (kubernetes|flux) SWEEP.yaml --shards N",
		Short: "Write the jobs that run a sweep's shards on Kubernetes or Flux",
		Long: `Write what runs a sweep as N shards on an existing cluster engine: job i
runs 'sim sweep SWEEP.yaml --shard i/N' into its own folder shard-i; when
all have finished, 'sim sweep merge' combines the folders into the table a
single-machine sweep gives.

  kubernetes  a batch/v1 Indexed Job (completion index = shard) and a
              ConfigMap holding the sweep file and the files it names
  flux        'flux submit --cc' and 'flux bulksubmit' command lines`,
		// Unknown targets are reported here (exit 2) with their flags.
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("sweep emit needs a target: kubernetes or flux\nUsage: %s", cmd.UseLine()))
			}
			return usageErr(fmt.Errorf("sweep emit: unknown target %q (valid: kubernetes, flux)", printableArg(args[0])))
		},
	}
	cmd.AddCommand(newEmitKubernetesCmd(), newEmitFluxCmd())
	return cmd
}

type emitKubeFlags struct {
	emitFlags
	image, volume, namespace string
	cpu, memory              string
	parallelism, retries     int
	noConfigMap              bool
	workdir                  string
}

func newEmitKubernetesCmd() *cobra.Command {
	var f emitKubeFlags
	cmd := &cobra.Command{
		Use:     "kubernetes SWEEP.yaml --shards N --image IMAGE --volume CLAIM [-o FILE]",
		Aliases: []string{"k8s"},
		Short:   "Write a batch/v1 Indexed Job (and its inputs ConfigMap) that runs the sweep's shards",
		Long: `Write a Kubernetes manifest: a ConfigMap <name>-inputs holding the sweep file
and every file it names (the base scenario and the profiles, traces and
models that scenario names, found by following the file names in them,
each relative to the file that names it), and a batch/v1 Job in Indexed
completion mode with N completions. Pod i runs

  sim sweep SWEEP.yaml --shard $(JOB_COMPLETION_INDEX)/N -o /results/shard-$(JOB_COMPLETION_INDEX) --resume

in the ConfigMap's folder, with the PersistentVolumeClaim --volume mounted
at /results (it must exist; ReadWriteMany when pods land on several
nodes). A failed pod is retried --retries times per index (--resume keeps
what its shard had finished), except after exit 2 (bad input) or 3 (a
bug), which would recur: that index fails at once; an evicted or
preempted pod is not counted. The image (--image) must have sim on its
PATH (or at --sim). A ConfigMap holds at most 1 MiB: for larger inputs use
--no-configmap and put them in the image, the pod running in --workdir.

Apply it with 'kubectl apply -f FILE'; when the Job is complete, copy the
shard folders out of the volume and run 'sim sweep merge shard-* -o OUT'.`,
		Example: `  sim sweep emit kubernetes sweeps/gangs.yaml --shards 8 --image ghcr.io/me/converge:v1 --volume sweep-results -o gangs-job.yaml
  kubectl apply -f gangs-job.yaml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return emitKubernetes(cmd, args[0], &f)
		},
	}
	addEmitFlags(cmd, &f.emitFlags)
	cmd.Flags().StringVar(&f.image, "image", "", "container image with sim on its PATH (required)")
	cmd.Flags().StringVar(&f.volume, "volume", "", "PersistentVolumeClaim mounted at /results for the shards' folders (required)")
	cmd.Flags().StringVar(&f.namespace, "namespace", "", "namespace of the Job and ConfigMap (default: kubectl's)")
	cmd.Flags().StringVar(&f.cpu, "cpu", "1", "CPU request of each pod")
	cmd.Flags().StringVar(&f.memory, "memory", "1Gi", "memory request of each pod")
	cmd.Flags().IntVar(&f.parallelism, "parallelism", 0, "pods running at once, 1..N (default N)")
	cmd.Flags().IntVar(&f.retries, "retries", 2, "retries of a failed pod per index (backoffLimitPerIndex)")
	cmd.Flags().BoolVar(&f.noConfigMap, "no-configmap", false, "emit no ConfigMap: the image holds the sweep file and what it names")
	cmd.Flags().StringVar(&f.workdir, "workdir", "", "with --no-configmap: the pod's working folder, where SWEEP.yaml's path is relative to (default: the image's)")
	return cmd
}

type emitFluxFlags struct {
	emitFlags
	results string
	cores   int
}

func newEmitFluxCmd() *cobra.Command {
	var f emitFluxFlags
	cmd := &cobra.Command{
		Use:   "flux SWEEP.yaml --shards N [--results DIR] [-o FILE]",
		Short: "Write the flux submit --cc and flux bulksubmit commands that run the sweep's shards",
		Long: `Write two equivalent ways of submitting the N shards to Flux, one job per
shard (run either, from the folder the sweep's paths are relative to):

  flux submit --cc=0-(N-1) ... sim sweep SWEEP.yaml --shard {cc}/N -o DIR/shard-{cc}
  flux bulksubmit ... sim sweep SWEEP.yaml --shard {}/N -o DIR/shard-{} ::: 0 1 ... N-1

then the 'sim sweep merge' line that combines the shards once all have
finished. Each job asks for one node, one task and --cores cores.`,
		Example: `  sim sweep emit flux sweeps/gangs.yaml --shards 8 --cores 4 > submit.sh
  sh submit.sh`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return emitFlux(cmd, args[0], &f)
		},
	}
	addEmitFlags(cmd, &f.emitFlags)
	cmd.Flags().StringVar(&f.results, "results", "", "folder of the shards' folders (default out/<sweep name>)")
	cmd.Flags().IntVarP(&f.cores, "cores", "c", 1, "cores per job (flux -c), also the -j of each shard unless -j is given")
	return cmd
}

// emitSweep is what both targets need to know about the sweep.
type emitSweep struct {
	name string // the sweep's name, else its file's base name
	base string // the base scenario's path
}

// checkEmitCommon checks the shared flags and reads the sweep file.
func checkEmitCommon(cmd *cobra.Command, sweepPath string, f *emitFlags) (*emitSweep, error) {
	if !cmd.Flags().Changed("shards") {
		return nil, usageErr(errors.New("--shards N is required (the number of shards, at least 1)"))
	}
	if f.shards < 1 || f.shards > emitMaxShards {
		return nil, usageErr(fmt.Errorf("--shards must be from 1 to %d, got %d", emitMaxShards, f.shards))
	}
	if f.jobs < 0 {
		return nil, usageErr(fmt.Errorf("-j must be at least 1 (or 0: the cores asked for), got %d", f.jobs))
	}
	if strings.TrimSpace(f.sim) == "" {
		return nil, usageErr(errors.New("--sim must name the sim command"))
	}
	if f.out != "" {
		if err := checkOutputFile(f.out, f.force); err != nil {
			return nil, usageErr(err)
		}
	}
	if _, err := os.Stat(sweepPath); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageErr(fmt.Errorf("%s: no such sweep file", printableArg(sweepPath)))
		}
		return nil, usageErr(fmt.Errorf("reading the sweep file: %w", err))
	}
	// The whole sweep is checked here, every point's scenario with it,
	// so that a mistake stops now and not in N jobs on a cluster.
	sw, err := scenarios.LoadSweep(sweepPath, nil)
	if err != nil {
		return nil, usageErr(err)
	}
	if f.shards > len(sw.Points) {
		return nil, usageErr(fmt.Errorf("--shards %d is more than the sweep's %d points: shards %d to %d would have nothing to run", f.shards, len(sw.Points), len(sw.Points), f.shards-1))
	}
	s := &emitSweep{name: sw.Name, base: sw.BasePath}
	return s, nil
}

// writeEmitted writes the emitted text to -o (atomically, never over a
// file without --force) or to standard output.
func writeEmitted(cmd *cobra.Command, f *emitFlags, data []byte) error {
	if f.out == "" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := writeFileAtomic(f.out, data, f.force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageErr(err)
		}
		return failedErr(err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "written to %s\n", f.out)
	return nil
}

// workersArg is the -j of each shard: -j when given, else the cores
// asked for (at least 1).
func workersArg(jobs int, cores int64) string {
	if jobs > 0 {
		return strconv.Itoa(jobs)
	}
	return strconv.FormatInt(max(cores, 1), 10)
}

// dnsLabel turns s into a valid DNS-1123 label of at most max characters.
func dnsLabel(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	if out == "" {
		out = "sweep"
	}
	if out[0] >= '0' && out[0] <= '9' {
		out = "sweep-" + out
		if len(out) > max {
			out = strings.TrimRight(out[:max], "-")
		}
	}
	return out
}

// --- Kubernetes ---

// jobNameMax leaves room for the pods' names (<job>-<index>-<suffix>)
// and keeps the job-name label within 63 characters.
const jobNameMax = 52

func emitKubernetes(cmd *cobra.Command, sweepPath string, f *emitKubeFlags) error {
	s, err := checkEmitCommon(cmd, sweepPath, &f.emitFlags)
	if err != nil {
		return err
	}
	if f.image == "" {
		return usageErr(errors.New("--image is required: a container image with sim on its PATH (converge publishes none; build one from its Makefile's binary)"))
	}
	if f.volume == "" {
		return usageErr(errors.New("--volume is required: the PersistentVolumeClaim that will hold /results/shard-i (ReadWriteMany when pods land on several nodes)"))
	}
	if msgs := validation.IsDNS1123Subdomain(f.volume); len(msgs) > 0 {
		return usageErr(fmt.Errorf("--volume %q is not a claim name: %s", printableArg(f.volume), strings.Join(msgs, "; ")))
	}
	if f.namespace != "" {
		if msgs := validation.IsDNS1123Label(f.namespace); len(msgs) > 0 {
			return usageErr(fmt.Errorf("--namespace %q: %s", printableArg(f.namespace), strings.Join(msgs, "; ")))
		}
	}
	name := f.name
	if name == "" {
		name = dnsLabel(s.name, jobNameMax)
	} else if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 || len(name) > jobNameMax {
		if len(msgs) == 0 {
			msgs = []string{fmt.Sprintf("must be no more than %d characters (the pods are named <name>-<index>-<suffix>)", jobNameMax)}
		}
		return usageErr(fmt.Errorf("--name %q: %s", printableArg(name), strings.Join(msgs, "; ")))
	}
	parallelism := f.parallelism
	if !cmd.Flags().Changed("parallelism") {
		parallelism = f.shards
	}
	if parallelism < 1 || parallelism > f.shards {
		return usageErr(fmt.Errorf("--parallelism must be from 1 to --shards (%d), got %d", f.shards, parallelism))
	}
	if f.retries < 0 {
		return usageErr(fmt.Errorf("--retries must be at least 0, got %d", f.retries))
	}
	cpu, err := resource.ParseQuantity(f.cpu)
	if err != nil || cpu.Sign() <= 0 {
		return usageErr(fmt.Errorf("--cpu %q: not a positive Kubernetes quantity (1, 500m, 4)", printableArg(f.cpu)))
	}
	mem, err := resource.ParseQuantity(f.memory)
	if err != nil || mem.Sign() <= 0 {
		return usageErr(fmt.Errorf("--memory %q: not a positive Kubernetes quantity (512Mi, 2Gi)", printableArg(f.memory)))
	}
	if f.workdir != "" && !f.noConfigMap {
		return usageErr(errors.New("--workdir goes with --no-configmap (with the ConfigMap the pod runs in its folder)"))
	}
	if f.workdir != "" && !path.IsAbs(f.workdir) {
		return usageErr(fmt.Errorf("--workdir %q must be an absolute path in the image", printableArg(f.workdir)))
	}

	var (
		inputs  *emitInputs
		sweepIn = filepath.ToSlash(sweepPath) // the sweep file's path in the pod
		workdir = f.workdir
	)
	if !f.noConfigMap {
		inputs, err = collectInputs(sweepPath, s.base)
		if err != nil {
			return usageErr(err)
		}
		sweepIn = path.Base(inputs.sweepRel)
		workdir = path.Join(emitInputsDir, path.Dir(inputs.sweepRel))
	}

	idx := "$(" + jobCompletionIndexEnv + ")"
	n := strconv.Itoa(f.shards)
	args := []string{"sweep", sweepIn,
		"--shard", idx + "/" + n,
		"-o", emitResultsDir + "/shard-" + idx,
		"-j", workersArg(f.jobs, (cpu.MilliValue())/1000),
		// A retried pod keeps what its shard had finished.
		"--resume",
	}
	labels := map[string]string{
		"app.kubernetes.io/name":      "converge",
		"app.kubernetes.io/component": "sweep",
		"app.kubernetes.io/instance":  name,
	}
	container := corev1.Container{
		Name:       "sim",
		Image:      f.image,
		Command:    []string{f.sim},
		Args:       args,
		WorkingDir: workdir,
		Env: []corev1.EnvVar{{
			// Kubernetes also sets it for Indexed Jobs; declaring it
			// lets $(JOB_COMPLETION_INDEX) expand in args everywhere.
			Name: jobCompletionIndexEnv,
			ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
				FieldPath: "metadata.annotations['" + batchv1.JobCompletionIndexAnnotation + "']",
			}},
		}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    cpu,
			corev1.ResourceMemory: mem,
		}},
		VolumeMounts: []corev1.VolumeMount{{Name: "results", MountPath: emitResultsDir}},
	}
	volumes := []corev1.Volume{{
		Name: "results",
		VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: f.volume,
		}},
	}}
	var cm *corev1.ConfigMap
	if inputs != nil {
		cm = &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name + "-inputs", Namespace: f.namespace, Labels: labels},
		}
		items := make([]corev1.KeyToPath, len(inputs.files))
		for i, in := range inputs.files {
			if utf8.Valid(in.data) {
				if cm.Data == nil {
					cm.Data = map[string]string{}
				}
				cm.Data[in.key] = string(in.data)
			} else {
				if cm.BinaryData == nil {
					cm.BinaryData = map[string][]byte{}
				}
				cm.BinaryData[in.key] = in.data
			}
			items[i] = corev1.KeyToPath{Key: in.key, Path: in.rel}
		}
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: "inputs", MountPath: emitInputsDir, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{
			Name: "inputs",
			VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name},
				Items:                items,
			}},
		})
	}
	completions, par, retries := int32(f.shards), int32(parallelism), int32(f.retries)
	mode := batchv1.IndexedCompletion
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			CompletionMode:       &mode,
			Completions:          &completions,
			Parallelism:          &par,
			BackoffLimitPerIndex: &retries,
			// sim exits 2 on bad input and 3 on a bug: the same shard
			// would fail the same way again, so its index fails at once.
			// A pod evicted or preempted does not use up a retry.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{
					Action: batchv1.PodFailurePolicyActionFailIndex,
					OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
						ContainerName: &container.Name,
						Operator:      batchv1.PodFailurePolicyOnExitCodesOpIn,
						Values:        []int32{exitUsage, exitInternal},
					},
				},
				{
					Action:          batchv1.PodFailurePolicyActionIgnore,
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
				},
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{container},
					Volumes:       volumes,
				},
			},
		},
	}

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# converge sweep %s in %d shards: sim sweep emit kubernetes (sim %s).\n", yamlComment(s.name), f.shards, versionString())
	fmt.Fprintf(&buf, "# Pod i (the completion index) runs: %s %s\n", f.sim, strings.Join(args, " "))
	fmt.Fprintf(&buf, "# in %s, writing into the PersistentVolumeClaim %s (it must exist;\n", workdir, f.volume)
	buf.WriteString("# ReadWriteMany when pods land on several nodes). Apply: kubectl apply -f THIS_FILE\n")
	buf.WriteString("# When the Job is complete, copy the shard-* folders out of the volume and run\n")
	buf.WriteString("#   sim sweep merge shard-* -o OUT\n")
	if cm != nil {
		fmt.Fprintf(&buf, "# The ConfigMap holds %s and the %d file(s) it names.\n", yamlComment(inputs.sweepRel), len(inputs.files)-1)
		if err := appendManifest(&buf, cm); err != nil {
			return failedErr(err)
		}
	} else {
		fmt.Fprintf(&buf, "# No ConfigMap: the image holds %s and the files it names.\n", yamlComment(sweepIn))
	}
	if err := appendManifest(&buf, job); err != nil {
		return failedErr(err)
	}
	return writeEmitted(cmd, &f.emitFlags, buf.Bytes())
}

// yamlComment keeps s on one comment line.
func yamlComment(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
}

// appendManifest adds one YAML document to buf: the object without its
// empty status and creation time (they are the server's to fill).
func appendManifest(buf *bytes.Buffer, obj any) error {
	j, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding the manifest: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return fmt.Errorf("encoding the manifest: %w", err)
	}
	delete(m, "status")
	stripCreationTimestamp(m)
	y, err := k8syaml.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding the manifest: %w", err)
	}
	buf.WriteString("---\n")
	buf.Write(y)
	return nil
}

// stripCreationTimestamp removes every metadata.creationTimestamp: null.
func stripCreationTimestamp(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == "creationTimestamp" && x == nil {
				delete(t, k)
				continue
			}
			stripCreationTimestamp(x)
		}
	case []any:
		for _, x := range t {
			stripCreationTimestamp(x)
		}
	}
}

// emitInput is one file of the inputs ConfigMap.
type emitInput struct {
	abs  string
	rel  string // slash path under the common folder: where it goes in the pod
	key  string // the ConfigMap key
	data []byte
}

// emitInputs are the sweep file and every file it names, laid out
// under their common folder so that relative names still resolve.
type emitInputs struct {
	files    []emitInput // sorted by rel
	sweepRel string
}

// collectInputs finds the files a sweep needs: every string in the sweep
// file that names an existing file, relative to the sweep file's folder
// or to the folder of a YAML file it names (its axes' values go into the
// base scenario, whose names are relative to the scenario), then, in
// every named YAML or JSON file, the strings naming files relative to
// that file. Absolute names cannot be carried into a pod and are errors.
func collectInputs(sweepPath, basePath string) (*emitInputs, error) {
	sweepAbs, err := filepath.Abs(sweepPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", printableArg(sweepPath), err)
	}
	found := map[string][]byte{}
	order := []string{}
	add := func(p string) (bool, error) {
		if _, ok := found[p]; ok {
			return false, nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return false, err
		}
		found[p] = data
		order = append(order, p)
		return true, nil
	}
	if _, err := add(sweepAbs); err != nil {
		return nil, fmt.Errorf("%s: %w", printableArg(sweepPath), err)
	}
	// resolve adds the files the strings of file p name, relative to any
	// of dirs; it returns the new ones.
	resolve := func(p string, dirs []string) ([]string, error) {
		strs, err := yamlStrings(found[p])
		if err != nil {
			return nil, nil // not YAML after all: nothing to follow
		}
		var added []string
		for _, s := range strs {
			if !plausibleFileName(s) {
				continue
			}
			if filepath.IsAbs(s) {
				if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
					return nil, fmt.Errorf("%s names %s, an absolute path a pod cannot see: name it relative to %s, or use --no-configmap and put it in the image", printableArg(p), printableArg(s), printableArg(filepath.Dir(p)))
				}
				continue
			}
			for _, d := range dirs {
				c := filepath.Clean(filepath.Join(d, filepath.FromSlash(s)))
				st, err := os.Stat(c)
				if err != nil || !st.Mode().IsRegular() {
					continue
				}
				isNew, err := add(c)
				if err != nil {
					return nil, fmt.Errorf("%s names %s: %w", printableArg(p), printableArg(s), err)
				}
				if isNew {
					added = append(added, c)
				}
			}
		}
		return added, nil
	}
	direct, err := resolve(sweepAbs, []string{filepath.Dir(sweepAbs)})
	if err != nil {
		return nil, err
	}
	if baseAbs, err := filepath.Abs(basePath); err == nil {
		if isNew, err := add(baseAbs); err != nil {
			return nil, fmt.Errorf("%s: %w", printableArg(basePath), err)
		} else if isNew {
			direct = append(direct, baseAbs)
		}
	}
	dirs := []string{filepath.Dir(sweepAbs)}
	for _, p := range direct {
		if d := filepath.Dir(p); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	queue := append([]string{}, direct...)
	if more, err := resolve(sweepAbs, dirs); err != nil {
		return nil, err
	} else {
		queue = append(queue, more...)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		ext := strings.ToLower(filepath.Ext(p))
		if (ext != ".yaml" && ext != ".yml" && ext != ".json") || len(found[p]) > emitParseLimit {
			continue
		}
		more, err := resolve(p, []string{filepath.Dir(p)})
		if err != nil {
			return nil, err
		}
		queue = append(queue, more...)
	}

	root := filepath.Dir(order[0])
	for _, p := range order[1:] {
		root = commonDir(root, filepath.Dir(p))
	}
	in := &emitInputs{}
	total := 0
	for _, p := range order {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil, err
		}
		in.files = append(in.files, emitInput{abs: p, rel: filepath.ToSlash(rel), data: found[p]})
		total += len(found[p])
	}
	in.sweepRel = in.files[0].rel
	sort.Slice(in.files, func(i, j int) bool { return in.files[i].rel < in.files[j].rel })
	for i := range in.files {
		in.files[i].key = configMapKey(i, in.files[i].rel)
	}
	if total > configMapMaxBytes {
		sizes := append([]emitInput{}, in.files...)
		sort.SliceStable(sizes, func(i, j int) bool { return len(sizes[i].data) > len(sizes[j].data) })
		var big []string
		for _, x := range sizes[:min(3, len(sizes))] {
			big = append(big, fmt.Sprintf("%s (%d bytes)", x.rel, len(x.data)))
		}
		return nil, fmt.Errorf("the sweep's files come to %d bytes, more than a ConfigMap holds (%d): largest %s; use --no-configmap and put them in the image", total, configMapMaxBytes, strings.Join(big, ", "))
	}
	return in, nil
}

// yamlStrings returns every scalar value (not key) of a YAML document.
func yamlStrings(data []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			out = append(out, n.Value)
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(&doc)
	return out, nil
}

// plausibleFileName skips values that cannot be a file's name.
func plausibleFileName(s string) bool {
	return s != "" && s != "." && len(s) < 4096 && !strings.ContainsAny(s, "\n\x00") && !strings.Contains(s, "://")
}

// commonDir is the deepest folder holding both a and b (absolute, clean).
func commonDir(a, b string) string {
	for {
		rel, err := filepath.Rel(a, b)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return a
		}
		parent := filepath.Dir(a)
		if parent == a {
			return a
		}
		a = parent
	}
}

// configMapKey is a valid, unique ConfigMap key for file i: its index
// and its path with the characters a key cannot hold replaced.
func configMapKey(i int, rel string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%03d.", i)
	for _, r := range rel {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	k := b.String()
	if len(k) > validation.DNS1123SubdomainMaxLength {
		k = k[:validation.DNS1123SubdomainMaxLength]
	}
	return k
}

// --- Flux ---

func emitFlux(cmd *cobra.Command, sweepPath string, f *emitFluxFlags) error {
	s, err := checkEmitCommon(cmd, sweepPath, &f.emitFlags)
	if err != nil {
		return err
	}
	if f.cores < 1 {
		return usageErr(fmt.Errorf("--cores must be at least 1, got %d", f.cores))
	}
	name := f.name
	if name == "" {
		name = s.name
	}
	results := f.results
	if results == "" {
		results = filepath.Join("out", s.name)
	}
	n := f.shards
	cc := "0"
	if n > 1 {
		cc = fmt.Sprintf("0-%d", n-1)
	}
	res := []string{"-N1", "-n1", "-c" + strconv.Itoa(f.cores), "--job-name=" + name}
	shard := func(id string) []string {
		return []string{f.sim, "sweep", sweepPath,
			"--shard", id + "/" + strconv.Itoa(n),
			"-o", filepath.Join(results, "shard-"+id),
			"-j", workersArg(f.jobs, int64(f.cores)),
		}
	}
	submit := append(append([]string{"flux", "submit", "--cc=" + cc}, res...), shard("{cc}")...)
	bulk := append(append([]string{"flux", "bulksubmit"}, res...), shard("{}")...)
	bulk = append(bulk, ":::")
	for i := 0; i < n; i++ {
		bulk = append(bulk, strconv.Itoa(i))
	}

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# converge sweep %s in %d shards: sim sweep emit flux (sim %s).\n", yamlComment(s.name), n, versionString())
	buf.WriteString("# Run ONE of the two submissions, from the folder the sweep's paths are relative to.\n")
	buf.WriteString("# flux submit --cc: one job per id, {cc} replaced by the id:\n")
	buf.WriteString(shellLine(submit) + "\n")
	buf.WriteString("# or the same with flux bulksubmit, {} replaced by each input after ::: :\n")
	buf.WriteString("# " + shellLine(bulk) + "\n")
	buf.WriteString("# When every job has finished (flux jobs -a), combine the shards:\n")
	merge := shellQuote(results) + "/shard-*"
	buf.WriteString("# " + shellQuote(f.sim) + " sweep merge " + merge + " -o " + shellQuote(filepath.Join(results, "merged")) + "\n")
	return writeEmitted(cmd, &f.emitFlags, buf.Bytes())
}

// shellLine quotes each word for a POSIX shell.
func shellLine(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}
