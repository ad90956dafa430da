// Package launchers models how the common Kubernetes launchers of MPI
// and ML jobs start a program: which pods they create, in which roles
// and when, what must be up before the application starts (the gate),
// and the start-up (bootstrap) cost each adds on top of its pods' own
// start-up, as a function of the job's nodes and ranks. Parameters live
// in scenarios/launchers/*.yaml (kind LauncherModel), fitted by
// scenarios/calibrate to ../shared/data/operator-bootstrap where data
// exist (docs/validation.md), assumed and marked so where they do not.
//
// A Launcher (built from an entry's Params) gives, for a job of N
// nodes and R ranks: its Plan (the pods of each role, who creates them
// and when, which run ranks, which belong on launcher nodes, the gate
// and how long the launcher waits for it); its Bootstrap (the phases
// it adds — before the pods exist, between the gate and the
// application's start, after the application — with the operator's
// creation offset of every pod), expected or drawn from a seeded
// stream (SampleBootstrap); and, for the calibration, the measured
// intervals as distributions (Intervals). scenarios wires it into the
// engine (workloads of kind MPIJob, MiniCluster, PyTorchJob: the
// operator's creation offsets and launcher pod as engine.Operator, the
// phases around the application's run model).
//
// The facts below are from the projects' sources (paths in their
// repositories); the code here is this project's own.
//
// # MPI Operator v2 (MPIJob, kubeflow.org/v2beta1)
//
// On a new MPIJob the controller's sync (kubeflow/mpi-operator,
// pkg/controller/mpi_job_controller.go, syncHandler) records the
// MPIJobCreated event, then creates a headless Service named after the
// job, a ConfigMap whose hostfile lists every worker by its DNS name,
// and a Secret with an SSH key pair, then one worker pod per replica
// (getOrCreateWorker: a Create call per missing worker, in index
// order), then the launcher as a batch Job (newLauncherJob), whose pod
// the Job controller creates. With launcherCreationPolicy AtStartup
// (the default; the only behaviour before the policy was added in June
// 2023) the launcher Job is created in the same sync as the workers;
// with WaitForWorkersReady only once countReadyWorkerPods equals the
// replicas. Every call goes through one client-go client whose limiter
// is --kube-api-qps 5, --kube-api-burst 10 by default
// (cmd/mpi-operator/app/options/options.go), events included. Workers
// run sshd (newWorker sets /usr/sbin/sshd -De); the Service publishes
// not-ready addresses only with runLauncherAsWorker, so a worker's name
// resolves once it is Ready. The launcher runs mpirun with
// OMPI_MCA_orte_default_hostfile pointing at the hostfile and
// OMPI_MCA_plm_rsh_args "-o ConnectionAttempts=10" (Intel MPI and MPICH
// get the same through their Hydra variables): mpirun starts one daemon
// per worker over ssh, and ssh tries to connect up to ten times, one
// attempt a second (ssh_config(5)). The MPIJob is Running when the
// launcher pod and every worker run, Succeeded when the launcher Job
// succeeds (updateMPIJobStatus).
//
// Model. The operator's calls are issued one at a time through a token
// bucket (QPS q, burst b, full at the start, one call's latency l):
// call i (from 0) goes at t_i = max(t_{i−1} + l, (i − b + 1)/q). The
// first SetupCalls calls are the event, Service, ConfigMap and Secret;
// the N workers follow, then the launcher Job. So the launcher is
// created (N + SetupCalls + 1 − b)/q after the job when the burst is
// spent: 0.2 s more for every worker past the burst, a cost the data's
// 8- and 16-node jobs show without any fitting. mpirun's time outside
// the application is
//
//	mpirunBase + sshPerNode·N + K·sshRetry
//
// with K the most ssh attempts any worker missed (Late: each worker
// late with probability sshLateProb, again with sshLateRepeat); the
// MPIJob's end-to-end time outside mpirun is the launcher Job's
// creation offset + podStart + launcherOverhead.
//
// # Flux Operator (MiniCluster)
//
// The operator (flux-framework/flux-operator, controllers/flux/job.go)
// creates one Indexed Job (completions = parallelism = size) under a
// headless Service; each pod runs the flux-view init container
// (controllers/flux/containers.go, getFluxContainer: it copies a Flux
// install into a volume the application container mounts), then the
// application container's entrypoint (pkg/flux/templates/wait.sh):
// index 0 is the lead broker, which runs `flux start` with the
// configuration naming every pod, -Stbon.fanout=256 (so up to 256
// brokers are its direct children) and, with logging.timed, wraps it
// and the submit command in /usr/bin/time (the data's fluxstart and
// fluxsubmit times); the others run `flux start` as followers in a loop
// that retries after 15 s when the broker exits. The lead broker runs
// rc1 (modules, the scheduler), waits for the full quorum (every broker
// joined), runs the job (flux submit --watch: allocation, one job shell
// a broker, the ranks under them), then cleanup, rc3 and shutdown. The
// data were taken with the operator's v1alpha1 (Feb 2023: Flux in the
// application container, the CURVE certificate from a helper pod);
// what the timers measure is the same.
//
// Model. With d = levels of the fanout-k tree below the lead broker
// (d = 1 up to k + 1 brokers), flux start's time outside the submit
// command is
//
//	brokerStartStop + joinPerLevel·d + K·joinRetry
//
// with K the most chances any of the N − 1 followers missed (each late
// with probability joinLateProb, again with joinLateRepeat): the lead
// waits for the last broker, so the chance that nobody is late falls as
// (1 − p)^(N−1). The submit command's time outside the application is
// jobLaunch + execPerLevel·d.
//
// # Kubeflow PyTorchJob (kubeflow.org/v1)
//
// The training-operator creates a master and the workers, each with a
// headless Service, and sets MASTER_ADDR, MASTER_PORT, WORLD_SIZE (all
// replicas) and RANK (master 0, worker i at i + 1)
// (pkg/controller.v1/pytorch/envvar.go); each worker gets the
// init-pytorch init container, `until nslookup <job>-master-0; do sleep
// 2; done` (pkg/controller.v1/pytorch/initcontainer.go). The program
// then rendezvouses at the master's store: init_process_group returns
// once WORLD_SIZE ranks joined. Model: workers wait dnsDelay +
// initPoll/2 after the master is Ready (expected), then
// processGroupInit + rendezvousPerRank·ranks. No data: the values are
// assumptions.
//
// # Indexed Job
//
// No launcher: the Job controller creates the pods (the engine's model)
// and each starts its index when its container starts; nothing waits
// for anything and nothing is added.
package launchers
