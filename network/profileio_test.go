package network

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func fittedFixture(t testing.TB) *Fit {
	t.Helper()
	var in FitInput
	for _, p := range []string{"osu/table-a.csv", "osu/table-b.csv", "iperf3/parallel4.json"} {
		if err := in.AddFile(p, readFixture(t, p), "metal"); err != nil {
			t.Fatal(err)
		}
	}
	f, err := FitProfile("fixture", in, FitOptions{Tool: "sim test", Command: "sim fit network osu/table-a.csv osu/table-b.csv iperf3/parallel4.json --experiment metal"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestProfileRoundTrip(t *testing.T) {
	f := fittedFixture(t)
	var a, b bytes.Buffer
	if err := WriteProfile(&a, f); err != nil {
		t.Fatal(err)
	}
	if err := WriteProfile(&b, f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of the same fit differ")
	}
	text := a.String()
	for _, want := range []string{"kind: NetworkProfile\nversion: 1\n", "# Regenerate: sim fit network", "# Fit error per message-size band", "sha256: ", "fit:\n", "provenance:\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("profile file lacks %q:\n%s", want, text)
		}
	}
	p, prov, err := ReadProfile("p.yaml", strings.NewReader(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !reflect.DeepEqual(stagesNil(*p), stagesNil(f.Profile)) {
		t.Errorf("read back %+v\nwrote %+v", *p, f.Profile)
	}
	if prov == nil || prov.Command != f.Provenance.Command || !reflect.DeepEqual(prov.Inputs, f.Provenance.Inputs) || !reflect.DeepEqual(prov.Parameters, f.Provenance.Parameters) {
		t.Errorf("provenance %+v", prov)
	}
	if prov.Fit == nil || !reflect.DeepEqual(*prov.Fit, f.Report) {
		t.Errorf("fit section %+v\nwant %+v", prov.Fit, f.Report)
	}
}

func stagesNil(p Profile) Profile {
	if len(p.Stages) == 0 {
		p.Stages = nil
	}
	return p
}

const minimalProfile = `kind: NetworkProfile
version: 1
name: hand
bands:
  - maxBytes: 65536
    latency: 2e-6
    bandwidth: 1e10
  - latency: 5e-6
    bandwidth: 2e10
stages:
  - name: vxlan
    headerBytes: 50
`

func TestReadProfileHandWritten(t *testing.T) {
	p, prov, err := ReadProfile("hand.yaml", strings.NewReader(minimalProfile))
	if err != nil {
		t.Fatal(err)
	}
	if prov != nil || len(p.Bands) != 2 || p.Bands[1].MaxBytes != 0 || p.Stages[0].HeaderBytes != 50 {
		t.Errorf("%+v %+v", p, prov)
	}
}

func TestReadProfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown key", strings.Replace(minimalProfile, "name: hand", "name: hand\nbandz: 1", 1), "p.yaml:4: bandz: unknown field"},
		{"unknown nested", strings.Replace(minimalProfile, "    headerBytes: 50", "    headerBytes: 50\n    jitter: 1", 1), "p.yaml:13: stages[0].jitter: unknown field"},
		{"duplicate", strings.Replace(minimalProfile, "name: hand", "name: hand\nname: again", 1), "p.yaml:4: name: duplicate key"},
		{"wrong type", strings.Replace(minimalProfile, "latency: 2e-6", "latency: fast", 1), `p.yaml:6: bands[0].latency: must be a number, got "fast"`},
		{"int type", strings.Replace(minimalProfile, "maxBytes: 65536", "maxBytes: 64k", 1), `p.yaml:5: bands[0].maxBytes: must be an integer`},
		{"list type", strings.Replace(minimalProfile, "stages:\n  - name: vxlan\n    headerBytes: 50\n", "stages: 3\n", 1), `p.yaml:10: stages: must be a list, got "3"`},
		{"kind", strings.Replace(minimalProfile, "kind: NetworkProfile", "kind: Scenario", 1), `p.yaml:1: kind: "Scenario": want NetworkProfile`},
		{"no kind", strings.Replace(minimalProfile, "kind: NetworkProfile\n", "", 1), "kind: missing"},
		{"version", strings.Replace(minimalProfile, "version: 1", "version: 2", 1), "p.yaml:2: version: 2: this build reads version 1"},
		{"impossible", strings.Replace(minimalProfile, "bandwidth: 2e10", "bandwidth: 0", 1), "p.yaml:9: network: invalid: profile \"hand\": bands[1].bandwidth"},
		{"negative", strings.Replace(minimalProfile, "latency: 5e-6", "latency: -5e-6", 1), "bands[1].latency"},
		{"order", strings.Replace(minimalProfile, "  - latency: 5e-6", "  - maxBytes: 100\n    latency: 5e-6", 1), "bands[1].maxBytes"},
		{"syntax", "kind: NetworkProfile\nname: [", "p.yaml:2: did not find expected node content"},
		{"empty", "", "p.yaml: empty profile file"},
		{"not a mapping", "- 1\n", "p.yaml:1: must be a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadProfile("p.yaml", strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if err := WriteProfile(&bytes.Buffer{}, &Fit{Profile: Profile{Name: "x"}}); err == nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("wrote a profile without bands: %v", err)
	}
}

func FuzzReadProfile(f *testing.F) {
	f.Add([]byte(minimalProfile))
	var buf bytes.Buffer
	if err := WriteProfile(&buf, fittedFixture(f)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := ReadProfile("fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid profile: %v", err)
		}
	})
}
