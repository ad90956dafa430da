# converge — see README.md.
GO       ?= go
BIN      := bin/sim
SCENARIO ?= scenarios/kube-basic.yaml
OUT      ?= out/kube-basic
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)

.PHONY: all build run test bench lint calibrate clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/sim

# Run the README's main scenario and print its summary. The report goes to
# $(OUT); this target replaces its own earlier output there.
run: build
	$(BIN) run $(SCENARIO) -o $(OUT) --force

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# Benchmarks: engine event loop vs a plain heap, kube-scheduler placement
# throughput, bytes per pod. See docs/performance.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./engine/ ./policies/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Start-up model against ../shared/data/pod-startup (reports the error tables).
calibrate:
	$(GO) test -count=1 -run 'TestPodStartup|TestImagePulls' -v ./scenarios/calibrate/

clean:
	rm -rf bin out
