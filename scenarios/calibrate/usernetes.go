package calibrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/traces"
)

// The Usernetes network path, as mechanisms fitted to the project's own
// measurements (make measure-network, scenarios/network/measured):
//
//   - vxlan: flannel's overlay. Pods see MTU 1450; each packet gains 50
//     bytes of VXLAN/UDP/IP/Ethernet headers. Latency: half the extra
//     round trip of ping over the VXLAN device against ping over the
//     bare veth pair it rides on (one encapsulation and one
//     decapsulation per one-way message).
//   - slirp4netns-out and slirp4netns-in: every packet leaves one node's
//     rootless network namespace through slirp4netns (the direction
//     iperf3 measures from inside the namespace) and enters the other
//     node's the other way (iperf3 -R). Each direction's serial cost
//     (per packet, per byte) is fitted to the single-stream rates at
//     slirp MTU 1500 and 65520 (network.FitStageCost); in Usernetes it
//     handles the overlay's 1500-byte packets. Latency: the extra round
//     trip of ping through slirp4netns against loopback is one exit and
//     one entry, split evenly between the two. CPU per byte: the
//     slirp4netns process's own CPU seconds per byte at MTU 1500
//     (/proc/PID/stat), which competes with the ranks for cores.
//
// Times use ping's median round trip (a loaded host delays the odd
// reply by milliseconds, which would swamp a mean), measured on this
// machine's namespaces, not on the VMs of the experiments; the stages
// are assumed to cost the same there.

// UsernetesStages is the fitted path and where each figure came from.
type UsernetesStages struct {
	VXLAN, SlirpOut, SlirpIn network.Stage
	Inputs                   []network.InputFile
	Sources                  []network.ParamSource
	Notes                    []string
}

// FitUsernetesStages reads the measurement folder and fits the stages.
func FitUsernetesStages(dir string) (*UsernetesStages, error) {
	u := &UsernetesStages{}
	read := func(name string) ([]byte, error) {
		path := filepath.Join(dir, name)
		data, err := limitio.ReadFile(path, limitio.Measurement, kindOf(name)+" measurement")
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		u.Inputs = append(u.Inputs, network.InputFile{Path: filepath.ToSlash(filepath.Join("scenarios/network/measured", name)), Kind: kindOf(name), SHA256: hex.EncodeToString(sum[:])})
		return data, nil
	}
	ping := func(name string) (*traces.PingResult, error) {
		data, err := read(name)
		if err != nil {
			return nil, err
		}
		return traces.ReadPing(name, bytes.NewReader(data))
	}
	rate := func(name string) (float64, error) {
		data, err := read(name)
		if err != nil {
			return 0, err
		}
		r, err := traces.ReadIperf3(name, bytes.NewReader(data))
		if err != nil {
			return 0, err
		}
		return r.Throughput(), nil
	}
	cpu := func(name string) (float64, error) {
		data, err := read(name)
		if err != nil {
			return 0, err
		}
		var c struct {
			CPUSeconds    float64 `json:"cpu_seconds"`
			BytesReceived float64 `json:"bytes_received"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if !(c.CPUSeconds >= 0) || !(c.BytesReceived > 0) {
			return 0, fmt.Errorf("%s: cpu_seconds %g and bytes_received %g must be a measurement", name, c.CPUSeconds, c.BytesReceived)
		}
		return c.CPUSeconds / c.BytesReceived, nil
	}

	veth, err := ping("ping-veth-1500.txt")
	if err != nil {
		return nil, err
	}
	vx, err := ping("ping-vxlan-1450.txt")
	if err != nil {
		return nil, err
	}
	lo, err := ping("ping-loopback-65536.txt")
	if err != nil {
		return nil, err
	}
	sl, err := ping("ping-slirp-1500.txt")
	if err != nil {
		return nil, err
	}
	u.VXLAN = network.Stage{Name: "vxlan", MTU: 1450, HeaderBytes: 50, Latency: max(vx.Median()-veth.Median(), 0) / 2}
	u.Sources = append(u.Sources, network.ParamSource{Param: "vxlan.latency", From: fmt.Sprintf("(median rtt vxlan %.1f µs − veth %.1f µs)/2", vx.Median()*1e6, veth.Median()*1e6)})

	slirpLatency := max(sl.Median()-lo.Median(), 0) / 2
	for _, d := range []struct {
		stage  *network.Stage
		name   string
		suffix string
	}{{&u.SlirpOut, "slirp4netns-out", ""}, {&u.SlirpIn, "slirp4netns-in", "-reverse"}} {
		var runs []network.StageRun
		for _, mtu := range []int{1500, 65520} {
			file := fmt.Sprintf("slirp-%d-1%s.json", mtu, d.suffix)
			r, err := rate(file)
			if err != nil {
				return nil, err
			}
			runs = append(runs, network.StageRun{PacketSize: mtu, Rate: r, Source: file})
		}
		f, err := network.FitStageCost(runs, 0)
		if err != nil {
			return nil, err
		}
		cpb, err := cpu(fmt.Sprintf("cpu-slirp-1500-1%s.json", d.suffix))
		if err != nil {
			return nil, err
		}
		*d.stage = network.Stage{Name: d.name, Latency: slirpLatency, PerPacket: f.PerPacket, PerByte: f.PerByte, CPUPerByte: cpb}
		u.Sources = append(u.Sources,
			network.ParamSource{Param: d.name + ".perPacket,perByte", From: fmt.Sprintf("network.FitStageCost of %s (%.3g Gb/s) and %s (%.3g Gb/s); rate errors %+.1f%%, %+.1f%%",
				runs[0].Source, runs[0].Rate*8/1e9, runs[1].Source, runs[1].Rate*8/1e9, 100*f.RateError[0], 100*f.RateError[1])},
			network.ParamSource{Param: d.name + ".latency", From: fmt.Sprintf("(median rtt slirp4netns %.1f µs − loopback %.1f µs)/2", sl.Median()*1e6, lo.Median()*1e6)},
			network.ParamSource{Param: d.name + ".cpuPerByte", From: fmt.Sprintf("slirp4netns CPU seconds per byte, cpu-slirp-1500-1%s.json", d.suffix)},
		)
	}
	u.Notes = []string{
		"stages fitted by FitUsernetesStages (scenarios/calibrate/usernetes.go) to this project's own measurements, taken on the namespaces of one machine, not on the experiments' VMs: the stages are assumed to cost the same there",
	}
	return u, nil
}

func kindOf(name string) string {
	switch filepath.Ext(name) {
	case ".txt":
		return "ping"
	case ".json":
		if len(name) > 4 && name[:4] == "cpu-" {
			return "slirp4netns-cpu"
		}
		return "iperf3"
	}
	return "file"
}

// profileFile is a NetworkProfile file as written here.
type profileFile struct {
	Kind            string `yaml:"kind"`
	Version         int    `yaml:"version"`
	network.Profile `yaml:",inline"`
	Provenance      *network.Provenance `yaml:"provenance,omitempty"`
}

// UsernetesProfiles returns the runtime profiles built on base: the
// full Usernetes path, and Usernetes with bypass4netns (pod sockets are
// host sockets, so slirp4netns is off the path; the overlay stays).
func (u *UsernetesStages) UsernetesProfiles(base *network.Profile) (usernetes, bypass *network.Profile) {
	usernetes = base.With(base.Name+"-usernetes", u.VXLAN, u.SlirpOut, u.SlirpIn)
	bypass = base.With(base.Name+"-usernetes-bypass4netns", u.VXLAN)
	return usernetes, bypass
}

// WriteProfileFile renders a profile with provenance as a NetworkProfile
// file, with a header comment.
func WriteProfileFile(p *network.Profile, prov *network.Provenance, header string) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(profileFile{Kind: network.ProfileKind, Version: network.ProfileVersion, Profile: *p, Provenance: prov}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// StagesCommand regenerates the vm-tcp profiles.
const StagesCommand = "sim fit stages scenarios/network/measured -o scenarios/profiles --force"

// ProfileFile is one rendered profile file.
type ProfileFile struct {
	Name string // file name, vm-tcp-usernetes.yaml
	Data []byte
}

// VMTCPProfile is the TCP transport between the lammps-stream-ml VMs:
// no point-to-point data exist for them, so it was fitted together with
// LAMMPS (the vm8-tcp fit of the app file lammpsFile).
func VMTCPProfile(lammpsFile string) (*network.Profile, *network.Provenance, error) {
	fit, err := loadAppFit(lammpsFile, "vm8-tcp")
	if err != nil {
		return nil, nil, err
	}
	for _, e := range fit.Environments {
		if e.Profile != nil {
			p := *e.Profile
			p.Name = "vm-tcp"
			prov := &network.Provenance{
				Tool:    "converge scenarios/calibrate",
				Command: StagesCommand,
				Notes: []string{
					"the TCP transport between the 8-core VMs of lammps-stream-ml, fitted together with LAMMPS to its wall times (scenarios/apps/lammps.yaml, fit vm8-tcp, environment " + e.Name + "): no point-to-point measurements of those VMs exist",
				},
			}
			for _, d := range fit.Provenance.Data {
				prov.Inputs = append(prov.Inputs, network.InputFile{Path: "../shared/data/" + d.Path, Kind: "app-run-times", SHA256: d.SHA256})
			}
			return &p, prov, nil
		}
	}
	return nil, nil, fmt.Errorf("%s: fit vm8-tcp has no fitted profile", lammpsFile)
}

// UsernetesProfileFiles fits the Usernetes stages to the measurements in
// measuredDir and renders the three vm-tcp profiles built on the VMs'
// TCP of lammpsFile: vm-tcp.yaml, vm-tcp-usernetes.yaml and
// vm-tcp-usernetes-bypass4netns.yaml.
func UsernetesProfileFiles(measuredDir, lammpsFile string) ([]ProfileFile, *UsernetesStages, error) {
	u, err := FitUsernetesStages(measuredDir)
	if err != nil {
		return nil, nil, err
	}
	base, baseProv, err := VMTCPProfile(lammpsFile)
	if err != nil {
		return nil, nil, err
	}
	usernetes, bypass := u.UsernetesProfiles(base)
	prov := func(p *network.Provenance) *network.Provenance {
		q := *p
		q.Inputs = append(append([]network.InputFile(nil), p.Inputs...), u.Inputs...)
		q.Parameters = u.Sources
		q.Notes = append(append([]string(nil), p.Notes...), u.Notes...)
		return &q
	}
	files := []struct {
		name string
		p    *network.Profile
		prov *network.Provenance
		what string
	}{
		{"vm-tcp.yaml", base, baseProv, "TCP between the lammps-stream-ml VMs (bare metal and Singularity: the same path)"},
		{"vm-tcp-usernetes.yaml", usernetes, prov(baseProv), "the same VMs' TCP with Usernetes' path: flannel VXLAN, then slirp4netns out of one node and into the other"},
		{"vm-tcp-usernetes-bypass4netns.yaml", bypass, prov(baseProv), "Usernetes with bypass4netns: pod sockets are host sockets, slirp4netns is off the path (its seccomp cost per socket call is not modelled); the overlay stays"},
	}
	var out []ProfileFile
	for _, f := range files {
		header := fmt.Sprintf("# converge network profile (NetworkProfile): %s.\n# Regenerate: %s\n", f.what, StagesCommand)
		data, err := WriteProfileFile(f.p, f.prov, header)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ProfileFile{Name: f.name, Data: data})
	}
	return out, u, nil
}

// Table lists the fitted stages.
func (u *UsernetesStages) Table() string {
	var b bytes.Buffer
	for _, st := range []network.Stage{u.VXLAN, u.SlirpOut, u.SlirpIn} {
		fmt.Fprintf(&b, "stage %-16s latency %6.1f µs  perPacket %6.2f µs  perByte %6.3f ns  cpu %6.3f ns/B  mtu %d hdr %d\n",
			st.Name, st.Latency*1e6, st.PerPacket*1e6, st.PerByte*1e9, st.CPUPerByte*1e9, st.MTU, st.HeaderBytes)
	}
	return b.String()
}
