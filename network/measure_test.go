package network_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// measuredRuns are the iperf3 files scripts/measure-network.sh writes:
// <path>-<mtu>-<streams>[-reverse].json.
var measuredRuns = []string{
	"veth-1500-1", "veth-1500-4",
	"vxlan-1450-1", "vxlan-1450-4",
	"loopback-65536-1", "loopback-65536-4",
	"slirp-1500-1", "slirp-1500-4", "slirp-1500-1-reverse", "slirp-1500-4-reverse",
	"slirp-65520-1", "slirp-65520-4", "slirp-65520-1-reverse", "slirp-65520-4-reverse",
}

var measuredPings = []string{"veth-1500", "vxlan-1450", "loopback-65536", "slirp-1500", "slirp-65520"}

// TestMeasureNetworkHarness runs the measurement harness for one second
// per run into a temporary folder and checks every iperf3 file parses
// and reports traffic. It needs root, network namespaces, /dev/net/tun,
// iproute2, iperf3 and slirp4netns (.ci/run installs them), and skips
// with the reason otherwise. Not under -short: it takes about 20 s.
func TestMeasureNetworkHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("measure-network harness: skipped under -short (runs iperf3 for ~20 s)")
	}
	if os.Geteuid() != 0 {
		t.Skip("measure-network harness: needs root to create network namespaces")
	}
	for tool, pkg := range map[string]string{"ip": "iproute2", "iperf3": "iperf3", "slirp4netns": "slirp4netns", "ss": "iproute2"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("measure-network harness: %s not installed (apt-get install %s)", tool, pkg)
		}
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("measure-network harness: slirp4netns needs /dev/net/tun: %v", err)
	}
	probe := fmt.Sprintf("cvg-probe-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("measure-network harness: network namespaces not permitted here: ip netns add: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("ip", "netns", "del", probe).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del %s: %v: %s", probe, err, out)
	}
	_, havePing := exec.LookPath("ping")

	script, err := filepath.Abs(filepath.Join("..", "scripts", "measure-network.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, dir, "1")
	// On timeout, TERM lets the script's trap remove its namespaces.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("harness took %v:\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("%s %s 1: %v", script, dir, err)
	}

	for _, name := range measuredRuns {
		b, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var r struct {
			Error string `json:"error"`
			End   struct {
				SumReceived struct {
					Bytes         int64   `json:"bytes"`
					BitsPerSecond float64 `json:"bits_per_second"`
				} `json:"sum_received"`
				CPU struct {
					HostTotal float64 `json:"host_total"`
				} `json:"cpu_utilization_percent"`
			} `json:"end"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Errorf("%s.json: not JSON: %v", name, err)
			continue
		}
		if r.Error != "" {
			t.Errorf("%s.json: iperf3 error: %s", name, r.Error)
		}
		if !(r.End.SumReceived.BitsPerSecond > 0) || r.End.SumReceived.Bytes <= 0 {
			t.Errorf("%s.json: end.sum_received = %d bytes at %g bit/s, want positive", name, r.End.SumReceived.Bytes, r.End.SumReceived.BitsPerSecond)
		}
		if !(r.End.CPU.HostTotal > 0) {
			t.Errorf("%s.json: end.cpu_utilization_percent.host_total = %g, want positive", name, r.End.CPU.HostTotal)
		}
		if !strings.HasPrefix(name, "slirp-") {
			continue
		}
		b, err = os.ReadFile(filepath.Join(dir, "cpu-"+name+".json"))
		if err != nil {
			t.Errorf("cpu-%s: %v", name, err)
			continue
		}
		var c struct {
			IPerf3     string  `json:"iperf3"`
			CPUSeconds float64 `json:"cpu_seconds"`
			Bytes      int64   `json:"bytes_received"`
			PerGB      float64 `json:"cpu_seconds_per_gb"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Errorf("cpu-%s.json: not JSON: %v", name, err)
			continue
		}
		// slirp4netns copies every byte in user space: a run that moved
		// data cost it CPU time.
		if c.IPerf3 != name+".json" || c.Bytes != r.End.SumReceived.Bytes || !(c.CPUSeconds > 0) || !(c.PerGB > 0) {
			t.Errorf("cpu-%s.json = %+v, want iperf3 %s.json, bytes %d and positive CPU time", name, c, name, r.End.SumReceived.Bytes)
		}
	}
	if havePing == nil {
		for _, name := range measuredPings {
			b, err := os.ReadFile(filepath.Join(dir, "ping-"+name+".txt"))
			if err != nil {
				t.Errorf("ping-%s: %v", name, err)
			} else if !strings.Contains(string(b), "rtt min/avg/max/mdev") {
				t.Errorf("ping-%s.txt has no rtt summary:\n%s", name, b)
			}
		}
	}
	m, err := os.ReadFile(filepath.Join(dir, "manifest.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"host kernel:", "iperf3:", "slirp4netns:", "ip:", "cpu:", "iperf3 -c 10.0.2.2", "slirp4netns --configure --mtu=65520"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("manifest.txt lacks %q", want)
		}
	}
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, fmt.Sprintf("cvg-a-%d", cmd.Process.Pid)) || strings.HasPrefix(l, fmt.Sprintf("cvg-s-%d", cmd.Process.Pid)) {
				t.Errorf("namespace left behind: %s", l)
			}
		}
	}
}
