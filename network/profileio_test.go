package network

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fittedFixture is a fit of the synthetic OSU series of the known
// profile and a parallel bulk run, with provenance.
func fittedFixture(t testing.TB) *Fit {
	t.Helper()
	in := synthetic(2, 0.002)
	in.Files[0].Path, in.Files[0].SHA256, in.Files[0].Format = "osu/table-a.csv", strings.Repeat("a", 64), "osu-csv"
	in.Files[1].Path, in.Files[1].SHA256, in.Files[1].Format = "osu/table-b.csv", strings.Repeat("b", 64), "osu-csv"
	run := BulkRun{Streams: 4, Rates: []float64{2.9e10, 3.1e10}, Seconds: []float64{0.5, 0.5}, MinRTT: 20e-6, PMTU: 65535, CPUPerByte: 1e-10}
	if err := in.AddBulk(InputFile{Path: "iperf3/parallel4.json", SHA256: strings.Repeat("c", 64), Format: "iperf3-json", Tool: "iperf 3.12"}, run); err != nil {
		t.Fatal(err)
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

// hostileNames are profile names and input file names that must survive a
// write and a read unchanged: YAML line breaks (\n, \r, NEL, LS, PS),
// comment and document markers, quotes, tags, anchors, control bytes,
// invalid UTF-8 and a long name.
var hostileNames = []string{
	"plain",
	"a\nkind: Injected\nversion: 9",
	"x\r\nbands: []",
	"nel\u0085after",
	"ls\u2028ps\u2029end",
	"# not a comment",
	"--- \n...\n",
	`"quoted" 'single' \back\slash`,
	"!!binary AAAA",
	"&anchor *alias",
	"- list: item",
	"{a: b}",
	"tab\there",
	"bell\a nul\x00 esc\x1b[31m del\x7f",
	"bad utf8 \xff\xfe here",
	"yes", "null", "~", "0x1F", "1e3", "",
	" leading and trailing ",
	strings.Repeat("long ", 2000),
}

// TestProfileHostileNamesRoundTrip: a profile written with any of the
// hostile names (as its name, an input file's path and in the command)
// reads back with the same names, and its comments hold no line break
// that YAML would honour.
func TestProfileHostileNamesRoundTrip(t *testing.T) {
	for i, name := range hostileNames {
		f := fittedFixture(t)
		f.Profile.Name = name
		f.Provenance.Inputs[0].Path = name
		f.Report.Inputs[0].Path = name
		f.Provenance.Command = "sim fit network " + name + " -o p.yaml"
		f.Provenance.Notes = append(f.Provenance.Notes, name)
		var buf bytes.Buffer
		if err := WriteProfile(&buf, f); err != nil {
			t.Fatalf("%d %.40q: %v", i, name, err)
		}
		p, prov, err := ReadProfile("p.yaml", bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%d %.40q: read back: %v\n%s", i, name, err, buf.String())
		}
		if p.Name != name || prov.Inputs[0].Path != name || prov.Fit.Inputs[0].Path != name || prov.Command != f.Provenance.Command || prov.Notes[len(prov.Notes)-1] != name {
			t.Errorf("%d %.40q: read back name %.40q, input %.40q, fit input %.40q, command %.60q", i, name, p.Name, prov.Inputs[0].Path, prov.Fit.Inputs[0].Path, prov.Command)
		}
		// Every comment line is one line to YAML: no break inside it.
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.HasPrefix(l, "#") && strings.ContainsAny(l, "\r\u0085\u2028\u2029") {
				t.Errorf("%d %.40q: a comment holds a YAML line break: %q", i, name, l)
			}
		}
	}
}

// TestReadFilesHostile: the file readers refuse what is not a profile or
// a measurement with one short message naming the file.
func TestReadFilesHostile(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	var pw strings.Builder
	for i := range 40 {
		fmt.Fprintf(&pw, "user%d:x:%d:%d:User %d:/home/user%d:/bin/bash\n", i, 1000+i, 1000+i, i, i)
	}
	if err := os.WriteFile(passwd, []byte(pw.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		read func(string) error
		path string
		want string
	}{
		{"profile /dev/zero", readProfileFile, "/dev/zero", "/dev/zero: larger than the 16 MiB limit for network profile files"},
		{"profile folder", readProfileFile, dir, dir + ": is a folder, not a network profile file"},
		{"profile passwd", readProfileFile, passwd, passwd + ":1: must be a mapping, got \"user0:x:1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(err.Error()) > len(tc.path)+200 {
				t.Errorf("a %d-byte message: %.300s", len(err.Error()), err)
			}
		})
	}
}

func readProfileFile(path string) error { _, _, err := ReadProfileFile(path); return err }

// FuzzProfileNameRoundTrip: whatever the profile's name and its inputs'
// paths, the profile written reads back with the same names (no YAML
// injection through a name or a comment).
func FuzzProfileNameRoundTrip(f *testing.F) {
	for _, n := range hostileNames {
		f.Add(n, n)
	}
	base := fittedFixture(f)
	f.Fuzz(func(t *testing.T, name, path string) {
		fit := *base
		fit.Provenance.Inputs = append([]InputFile(nil), base.Provenance.Inputs...)
		fit.Report.Inputs = append([]InputFit(nil), base.Report.Inputs...)
		fit.Profile.Name = name
		fit.Provenance.Inputs[0].Path = path
		fit.Report.Inputs[0].Path = path
		fit.Provenance.Command = "sim fit network " + path + " --name " + name
		var buf bytes.Buffer
		if err := WriteProfile(&buf, &fit); err != nil {
			t.Fatal(err)
		}
		p, prov, err := ReadProfile("p.yaml", bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("read back: %v\n%s", err, buf.String())
		}
		if p.Name != name || prov.Inputs[0].Path != path || prov.Fit.Inputs[0].Path != path || prov.Command != fit.Provenance.Command {
			t.Fatalf("read back name %q path %q command %q", p.Name, prov.Inputs[0].Path, prov.Command)
		}
	})
}
