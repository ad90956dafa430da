package calibrate

import (
	"fmt"

	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/workloads/apps"
	"github.com/convergesim/converge/workloads/launchers"
)

// Entry names of the bundled launcher file.
const (
	MPIJobEntry      = "mpijob-hpc6a-efa"
	MiniClusterEntry = "minicluster-hpc6a-efa"
	PyTorchJobEntry  = "pytorchjob-assumed"
	IndexedJobEntry  = "indexedjob"
)

const bootstrapHardware = "AWS EKS, 65 × hpc6a.48xlarge (96 cores), EFA; LAMMPS ReaxFF HNS 64×16×16, 94 ranks a node, 8 and 16 nodes, 20 runs each; one container image (Open MPI 4 over ssh, Flux 0.44) for both operators"

// PyTorchJobAssumed are the PyTorchJob parameters: no data behind any.
var PyTorchJobAssumed = launchers.PyTorchJobParams{ClientQPS: 5, ClientBurst: 10, APILatency: 0.02, InitPoll: 2, DNSDelay: 1,
	ProcessGroupInit: 2, RendezvousPerRank: 0.001, Finish: 1}

const pytorchNotes = "No measurements: every value is an assumption. Facts (kubeflow/training-operator): a master and the workers, each with a " +
	"headless Service; WORLD_SIZE = all replicas, RANK 0 for the master and i+1 for worker i (pkg/controller.v1/pytorch/envvar.go); " +
	"each worker's init-pytorch init container runs `until nslookup <job>-master-0; do sleep 2; done` (initcontainer.go), so initPoll 2 s " +
	"is upstream's. Assumed: the operator's client limits (client-go's defaults, 5 QPS and burst 10), a 20 ms API call, 1 s from the " +
	"master's Ready to its name resolving, 2 s of init_process_group (store and communicators) plus 1 ms a rank, 1 s from the last " +
	"pod's exit to Succeeded. Replace them with a fit before drawing conclusions that rest on PyTorchJob start-up."

// BuildLauncherFile assembles the LauncherModel file: the fitted MPIJob
// and MiniCluster with their provenance (the command, the data, the
// in-sample and held-out figures, each parameter's spread), the
// assumed PyTorchJob and the Indexed Job.
func BuildLauncherFile(fit *LauncherFit, in, cv *LauncherResult, dataPath, dataSHA, command string) *launchers.File {
	data := []apps.DataFile{{Path: dataPath, SHA256: dataSHA}}
	method := fmt.Sprintf("maximum likelihood of each interval's runs under the launcher's distribution (workloads/launchers Dist: "+
		"a base, the wait for late parties, the application clock's truncation, normal jitter); %s; an interval's parameters are "+
		"not identified when refits within %.2f of the best log-likelihood span more than a factor 2 or it fits as well at half or "+
		"twice its value", LauncherFitOptions, likelihoodSlack)
	prov := func(op string, notes string) apps.Provenance {
		p := apps.Provenance{Data: data, Command: command, Method: method, Notes: notes}
		if in != nil {
			_, m, _, _, _, _, _ := in.Totals(op)
			m = round2(m)
			p.InSampleMAPE = &m
			for _, row := range in.Rows {
				if row.Case.Operator == op {
					p.InSampleResiduals = append(p.InSampleResiduals, apps.Residual{Case: row.Case.Name() + " mean", Measured: round4(row.DataMean),
						Model: round4(row.ModelMean), ErrorPct: round2(100 * (row.ModelMean/row.DataMean - 1))})
				}
			}
		}
		if cv != nil {
			_, m, _, _, bm, _, _ := cv.Totals(op)
			p.HeldOut = &apps.HeldOut{Scheme: cv.Scheme, MAPE: round2(m), Baselines: []apps.BaselineError{{Name: "mean of the fitted size", MAPE: round2(bm)}}}
			p.Notes += " Held out: " + cv.Summary(op)
		}
		if in != nil {
			p.Notes += " In-sample: " + in.Summary(op)
		}
		for _, pf := range fit.Problems {
			if pf.Operator == op {
				for _, s := range pf.Spread {
					s.Value, s.Min, s.Max = round4(s.Value), round4(s.Min), round4(s.Max)
					p.Parameters = append(p.Parameters, s)
				}
			}
		}
		return p
	}
	mpi, flux := roundMPI(fit.Set.MPI), roundFlux(fit.Set.Flux)
	return &launchers.File{
		Kind: launchers.FileKind, Version: 1,
		Description: "How the Kubernetes launchers start a program and what they add to its start-up (workloads/launchers; docs/validation.md).",
		Launchers: []launchers.Entry{
			{Name: MPIJobEntry, Type: launchers.MPIJob, Hardware: bootstrapHardware, Parameters: &mpi, Provenance: prov(MPIOperator, mpiNotes)},
			{Name: MiniClusterEntry, Type: launchers.MiniCluster, Hardware: bootstrapHardware, Parameters: &flux, Provenance: prov(FluxOperator, fluxNotes)},
			{Name: PyTorchJobEntry, Type: launchers.PyTorchJob, Hardware: "any (assumed)", Parameters: ptr(PyTorchJobAssumed),
				Provenance: apps.Provenance{Command: "none: assumed (no measurements of PyTorchJob start-up)", Notes: pytorchNotes}},
			{Name: IndexedJobEntry, Type: launchers.IndexedJob, Hardware: "any", Parameters: &launchers.IndexedJobParams{},
				Provenance: apps.Provenance{Command: "none: nothing to fit", Notes: "No launcher: the Job controller's pods (the engine's model) each start their index when their container starts."}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

const mpiNotes = "Fitted: mpirunBase, sshLateProb, sshLateRepeat, sshLateSpread, mpirunJitter (mpirun's real time less LAMMPS' whole-second total wall time), " +
	"launcherOverhead, operatorJitter (the MPIJob's end-to-end time less mpirun's). Facts, fixed: clientQPS 5 and clientBurst 10 " +
	"(mpi-operator --kube-api-qps/--kube-api-burst defaults, cmd/mpi-operator/app/options/options.go; the experiment's deployment sets " +
	"neither), setupCalls 4 (the MPIJobCreated event, Service, ConfigMap, Secret before the workers, pkg/controller/mpi_job_controller.go), " +
	"launcherCreation AtStartup (the only behaviour in Feb 2023), sshRetry 1 s and sshAttempts 10 (-o ConnectionAttempts=10; ssh_config(5)). " +
	"A priori, not identified by one size: apiLatency 0.02 s, sshPerNode 0.02 s; podStart 2 s (the pod start-up study's median time to " +
	"Ready) trades one for one with launcherOverhead, so only their sum is seen; finishShare 0.5 (how the overhead splits around the " +
	"application) is an assumption. The growth of the end-to-end time with the workers (0.2 s a worker past the client's burst) is the " +
	"token bucket's, not a fit."

const fluxNotes = "Fitted: jobLaunch, jobJitter (flux submit --watch less LAMMPS' whole-second total wall time), brokerStartStop, joinLateProb, " +
	"joinLateRepeat, joinRetry, joinLateSpread, brokerJitter (flux start less flux submit, the lead broker's own time: rc1, the wait for the full quorum, " +
	"cleanup, rc3). Facts, fixed: fanout 256 (-Stbon.fanout=256, pkg/flux/templates/wait.sh), so 8 and 16 brokers are one level: " +
	"joinPerLevel and execPerLevel (0.01 s, a priori) are not identified by these sizes and only matter past 257 brokers. The chance that no " +
	"follower is late, (1 − joinLateProb)^(N−1), is what carries the broker interval from one size to the other. stopShare 0.25 is the " +
	"split of the lead broker's log (rc1 0.35 s and quorum 0.30 s before the job, 0.2 s after). viewCopy 2 s (the flux-view init " +
	"container) is an assumption: the data (operator v1alpha1) have no flux-view and no pod-level times."

// roundMPI and roundFlux round the fitted values to four significant
// digits, as written (the in-sample figures are those of the rounded
// values).
func roundMPI(p launchers.MPIJobParams) launchers.MPIJobParams {
	for _, v := range []*float64{&p.LauncherOverhead, &p.OperatorJitter, &p.MpirunBase, &p.SSHLateProb, &p.SSHLateRepeat, &p.SSHLateSpread, &p.MpirunJitter} {
		*v = round4(*v)
	}
	return p
}

func roundFlux(p launchers.MiniClusterParams) launchers.MiniClusterParams {
	for _, v := range []*float64{&p.BrokerStartStop, &p.JoinLateProb, &p.JoinLateRepeat, &p.JoinRetry, &p.JoinLateSpread, &p.BrokerJitter, &p.JobLaunch, &p.JobJitter} {
		*v = round4(*v)
	}
	return p
}

// RoundedSet is the set as the file writes it.
func RoundedSet(s LauncherSet) LauncherSet {
	return LauncherSet{MPI: roundMPI(s.MPI), Flux: roundFlux(s.Flux)}
}

// RenderLauncherFile renders a LauncherModel file with its header
// comment; the result is checked by loading it back with the strict
// loader (name names it in errors).
func RenderLauncherFile(name string, f *launchers.File) ([]byte, error) {
	return renderParamFile("# Launcher models (workloads/launchers): how each launcher starts a program and what it adds\n"+
		"# to its start-up. The fitted entries come from sim fit launchers (scenarios/calibrate), the\n"+
		"# command in their provenance regenerates them; inSampleMAPE is the error on the runs fitted,\n"+
		"# heldOut the error of predicting a size left out of the fit (docs/validation.md).\n", f,
		func(b []byte) error { _, err := scenarios.ParseLauncherModel(name, b); return err })
}
