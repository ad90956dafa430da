# converge — see README.md.
GO       ?= go
BIN      := bin/sim
SCENARIO ?= scenarios/kube-basic.yaml
OUT      ?= out/kube-basic
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)

.PHONY: all build run test bench scale lint calibrate measure-network measure-cfs measure-intra clean sweep-example

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/sim

# Run the README's main scenario and print its summary. The report goes to
# $(OUT); this target replaces its own earlier output there.
run: build
	$(BIN) run $(SCENARIO) -o $(OUT) --force

# The headline comparison as a sweep: kube-scheduler, Coscheduling and
# Fluence, 10 seeds each (README "Sweeps"); replaces its own earlier output.
sweep-example: build
	$(BIN) sweep scenarios/sweeps/fluence-vs-kube.yaml -o out/sweep-fvk --force

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# Benchmarks: engine event loop vs a plain heap, kube-scheduler placement
# throughput, bytes per pod, the Fluxion matcher, collectives and flow
# re-sharing, app model evaluations. See docs/performance.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./engine/ ./policies/... ./network/ ./workloads/... ./report/

# Whole-process wall time, CPU time and peak memory of `sim run` at scale
# (backlogs of 10,000 and 100,000 pods, 1,000,000 pods on 10,000 nodes,
# the Usernetes study with 100 times its jobs), every output written.
# CASES=... picks some; see scripts/scale.sh and docs/performance.md.
scale: build
	SIM=$(BIN) scripts/scale.sh $(CASES)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Model error against ../shared/data (docs/validation.md; absent data:
# the tests skip, the fits stop with exit 2). First the checks that make
# test also runs (every bundled fit's IN-SAMPLE error under its guard, its
# provenance up to date, and the HELD-OUT cross-validation of each fitting
# procedure in its cheaper CI form, with naive baselines); then every fit's
# full procedure, which prints its in-sample table, the spread of every
# parameter over refits from several starting points with a two-point
# profile (identified or not), and the held-out table with baselines.
# Nothing is written; to rewrite a parameter file, run the command in its
# provenance (sim fit app ... -o FILE --force, sim fit startup ...).
SHARED_DATA ?= ../shared/data
APP_FITS    ?= lammps/hpc7g-efa lammps/vm8-tcp lammps/hpc6a-efa amg/hpc6a-efa qmcpack/hpc6a-efa

calibrate: build
	$(GO) test -count=1 -run 'TestPodStartup|TestImagePulls|TestApp|TestUsernetesProfiles' -v ./scenarios/calibrate/
	for f in $(APP_FITS); do $(BIN) fit app $$f --data $(SHARED_DATA) || exit $$?; done
	$(BIN) fit startup scenarios/pod-startup.yaml --pod-times $(SHARED_DATA)/pod-startup/pod-times.csv
	$(BIN) fit startup scenarios/image-pull.yaml --pull-times $(SHARED_DATA)/pod-startup/lammps-pull-times.csv

# Network measurements on this machine (needs root, iproute2, iperf3,
# slirp4netns; ping optional): veth, VXLAN over veth, slirp4netns at MTU 1500
# and 65520, loopback, MEASURE_SECONDS per iperf3 run, into $(MEASURED)
# (committed: the project's own data). Then fits a transport profile per path
# with `sim fit network` when that subcommand exists. See
# docs/network-measurements.md.
SIM             ?= $(BIN)
MEASURED        ?= scenarios/network/measured
PROFILES        ?= scenarios/profiles
MEASURE_SECONDS ?= 5

measure-network: build
	scripts/measure-network.sh $(MEASURED) $(MEASURE_SECONDS)
	mkdir -p $(PROFILES)
	$(SIM) fit network $(MEASURED)/veth-1500-*.json -o $(PROFILES)/local-veth.yaml --force
	$(SIM) fit network $(MEASURED)/vxlan-1450-*.json -o $(PROFILES)/local-vxlan.yaml --force
	$(SIM) fit network $(MEASURED)/slirp-1500-[14].json -o $(PROFILES)/local-slirp-1500.yaml --force
	$(SIM) fit network $(MEASURED)/slirp-65520-[14].json -o $(PROFILES)/local-slirp-65520.yaml --force
	$(SIM) fit network $(MEASURED)/loopback-65536-*.json -o $(PROFILES)/local-loopback.yaml --force
	# The Usernetes stages (VXLAN, slirp4netns out and in) on the VMs' TCP:
	# scenarios/profiles/vm-tcp*.yaml (scenarios/calibrate/usernetes.go).
	$(SIM) fit stages $(MEASURED) -o $(PROFILES) --force

# CPU limits on this machine (needs root, a C compiler, the cpu cgroup
# controller; about 8 minutes, best on an idle machine): a bulk-synchronous
# program of busy-polling ranks in groups ("nodes"), each group in its own
# cgroup under a CFS quota below its ranks, into $(CFS_MEASURED) (committed).
# TestCFSMeasured (workloads/apps) compares the model with it; see
# docs/validation.md, "CPU limits (CFS quota)".
CFS_MEASURED ?= scenarios/calibrate/testdata/cfs-measured.csv

measure-cfs:
	scripts/measure-cfs.sh $(CFS_MEASURED)
	$(GO) test -count=1 -run TestCFSMeasured -v ./workloads/apps/

# Intra-node (shared-memory) MPI transport on this machine: two ranks of
# Open MPI with single-copy by cross-memory attach (cma), without it
# (copy-in/copy-out: nocma) and cma inside a user namespace, in OSU format,
# INTRA_REPEAT runs each, into $(MEASURED)/intra (committed). Then fits one
# profile per path to its osu_latency runs (the one-message time a
# collective's round pays). Needs openmpi-bin and libopenmpi-dev. See
# docs/network-measurements.md.
INTRA_REPEAT ?= 5

measure-intra: build
	scripts/measure-intra.sh $(MEASURED)/intra $(INTRA_REPEAT)
	mkdir -p $(PROFILES)
	$(SIM) fit network $(MEASURED)/intra/shm-cma-latency.txt -o $(PROFILES)/local-shm-cma.yaml --force
	$(SIM) fit network $(MEASURED)/intra/shm-nocma-latency.txt -o $(PROFILES)/local-shm-nocma.yaml --force

# Transport profiles fitted to the OSU point-to-point tables of the
# flux-usernetes experiments (2 x hpc7g.4xlarge, EFA; ../shared/data, not
# shipped): bare metal and Flux Operator in Usernetes. Replaces the two
# profiles in $(PROFILES); the fit error per band is printed and kept in them.
SHARED_OSU ?= ../shared/data/flux-usernetes-aws/osu

.PHONY: fit-network
fit-network: build
	@test -d $(SHARED_OSU) || { echo "fit-network: $(SHARED_OSU) is absent"; exit 2; }
	mkdir -p $(PROFILES)
	$(SIM) fit network $(SHARED_OSU)/osu-results-latency.csv $(SHARED_OSU)/osu-results-bandwidth.csv \
	  --experiment bare-metal -o $(PROFILES)/aws-hpc7g-efa-bare-metal.yaml --force
	$(SIM) fit network $(SHARED_OSU)/osu-results-latency.csv $(SHARED_OSU)/osu-results-bandwidth.csv \
	  --experiment usernetes -o $(PROFILES)/aws-hpc7g-efa-usernetes.yaml --force

clean:
	rm -rf bin out
