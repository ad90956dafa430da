package traces

import (
	"strings"
	"testing"
)

func TestReadPullTimes(t *testing.T) {
	const header = ",event,duration,container,cloud,environment,exp_size,exp_type,experiment\n"
	good := header +
		"1,pulled,14.5,img:a,google,gke,size32,cpu,google/gke/cpu/size32\n" +
		"2,pulled,16,img:a,google,gke,size64-placement,cpu,google/gke/cpu/size64-placement\n" +
		"3,pulled,12.5,img:a,google,gke,size32,cpu,google/gke/cpu/size32\n"
	rows, err := ReadPullTimes(strings.NewReader(good), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1].Line != 3 || rows[1].Nodes != 64 || rows[1].Variant != "placement" || rows[1].Duration != 16 {
		t.Fatalf("rows %+v", rows)
	}
	for _, tc := range []struct{ in, want string }{
		{"", "t.csv: empty file"},
		{",event,duration\n", "t.csv:1: header has no \"container\" column"},
		{header + "1,pulled,x,img,google,gke,size32,cpu,e\n", "t.csv:2: duration \"x\" is not a number of seconds from 0 to 1e+07"},
		{header + "1,pulled,1e308,img,google,gke,size32,cpu,e\n", "t.csv:2: duration \"1e308\" is not a number of seconds from 0 to 1e+07"},
		{header + "1,pulled,NaN,img,google,gke,size32,cpu,e\n", "t.csv:2: duration \"NaN\""},
		{header + "1,pulled,1,img,google,gke,size99999999999,cpu,e\n", "t.csv:2: exp_size \"size99999999999\": the node count must be from 1 to 1000000"},
		{header + "1,pulled,1,img,google,gke,size32,cpu,e\n2,pulled,-1,img,google,gke,size32,cpu,e\n", "t.csv:3: duration \"-1\""},
		{header + "1,pulled,1,img,google,gke,big,cpu,e\n", "t.csv:2: exp_size \"big\" is not size<nodes>[-<variant>]"},
		{header + "1,pulled,1,img,google\n", "t.csv:2: 5 fields, the header has 9"},
		{header + "1,pulled,1,\"img,google,gke,size32,cpu,e\n", "t.csv:2: extraneous or missing \" in quoted-field"},
	} {
		_, err := ReadPullTimes(strings.NewReader(tc.in), "t.csv")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want prefix %q", tc.in, err, tc.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("a %d-byte message", len(err.Error()))
		}
	}
}

func FuzzReadPullTimes(f *testing.F) {
	f.Add(",event,duration,container,cloud,environment,exp_size,exp_type,experiment\n1,pulled,14.5,img:a,google,gke,size32,cpu,e\n")
	f.Add(",event,duration,container,cloud,environment,exp_size,exp_type,experiment\n1,pulled,1e308,\x00,\xff,gke,size99999999999,cpu,e\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadPullTimes(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if len(err.Error()) > 1000 {
				t.Fatalf("a %d-byte message", len(err.Error()))
			}
			return
		}
		for _, r := range rows {
			if !(r.Duration >= 0 && r.Duration <= MaxSeconds) || r.Nodes < 1 || r.Nodes > MaxCount {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
