package graph_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// FuzzReadJGF: ReadJGF never panics, fails only with a *JGFError, and every
// graph it accepts is valid and survives write → read unchanged, with a
// byte-identical second write.
//
// Seeds are kept small (a few hundred bytes): the fuzzer minimizes every
// input that finds new coverage, and minimizing the multi-kilobyte files in
// testdata/jgf takes most of a short run. Run with e.g.
//
//	go test ./policies/fluxion/graph/ -run '^$' -fuzz FuzzReadJGF -fuzztime 30s -fuzzminimizetime 5s
func FuzzReadJGF(f *testing.F) {
	f.Add([]byte(graph.JGFDoc(graph.JGFC0+","+graph.JGFN1+","+graph.JGFK2, graph.JGFE1+","+graph.JGFE2)))
	// Fluxion's layout: full metadata, vertices grouped by type.
	f.Add([]byte(`{"graph":{"nodes":[
{"id":"0","metadata":{"type":"cluster","basename":"tiny","name":"tiny0","id":0,"uniq_id":0,"rank":-1,"exclusive":false,"unit":"","size":1,"paths":{"containment":"/tiny0"}}},
{"id":"1","metadata":{"type":"node","basename":"node","name":"node0","id":0,"uniq_id":1,"rank":0,"exclusive":false,"unit":"","size":1,"paths":{"containment":"/tiny0/node0"}}},
{"id":"2","metadata":{"type":"core","basename":"core","name":"core0","id":0,"uniq_id":2,"rank":0,"exclusive":false,"unit":"","size":1,"paths":{"containment":"/tiny0/node0/core0"}}},
{"id":"3","metadata":{"type":"memory","basename":"memory","name":"memory0","id":0,"uniq_id":3,"rank":0,"exclusive":false,"unit":"GB","size":2,"paths":{"containment":"/tiny0/node0/memory0"}}}],
"edges":[{"source":"0","target":"1","metadata":{"subsystem":"containment"}},{"source":"1","target":"2","metadata":{"subsystem":"containment"}},{"source":"1","target":"3","metadata":{"subsystem":"containment"}}]}}`))
	// Fluence's layout: edges both ways, edges before nodes, other subsystems.
	f.Add([]byte(`{"graph":{"edges":[{"source":"b","target":"a"},{"source":"a","target":"b","metadata":{"subsystem":"containment"}},{"source":"b","target":"a","metadata":{"subsystem":"power"}}],"nodes":[` +
		`{"id":"a","metadata":{"type":"cluster","uniq_id":5,"paths":{"containment":"/k0"}}},` +
		`{"id":"b","metadata":{"type":"node","name":"w12","uniq_id":9,"status":"down","paths":{"containment":"/k0/w12","power":"/p"},"properties":{"x":"y"}}}]}}`))
	f.Add([]byte(`{"graph":{"nodes":[{"id":"0","metadata":{"type":"n\u00e9ud","name":"a\"b","status":1,"size":0,"properties":null,"paths":{"containment":"/c\ud83d\ude00"}}}],"edges":[]}}`))
	// Hostile input: NUL bytes (/dev/zero), a binary, sizes summing past
	// int64, a rank past int32, a cycle.
	f.Add(make([]byte, 64))
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte(graph.JGFDoc(graph.JGFC0+","+graph.JGFNode("1", `{"type":"memory","size":9223372036854775807,"paths":{"containment":"/c0/m"}}`)+","+graph.JGFNode("2", `{"type":"memory","size":9223372036854775807,"paths":{"containment":"/c0/m2"}}`), `{"source":"0","target":"1"},{"source":"0","target":"2"}`)))
	f.Add([]byte(graph.JGFDoc(graph.JGFNode("0", `{"type":"node","rank":4294967296,"paths":{"containment":"/n"}}`), "")))
	for _, tc := range graph.JGFErrorCases {
		if len(tc.In) <= 1024 {
			f.Add([]byte(tc.In))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := graph.ReadJGF(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			var je *graph.JGFError
			if !errors.As(err, &je) {
				t.Fatalf("error is %T, not *JGFError: %v", err, err)
			}
			if len(err.Error()) > 1000 {
				t.Fatalf("a %d-byte message", len(err.Error()))
			}
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatal(err)
		}
		// Every graph the reader accepts can be planned: sizes and ranks
		// are in range (an overflowing size total used to reach the
		// planner as a negative total).
		if _, err := match.NewMatcher(g, match.MatcherOptions{PruneFilters: "ALL:core,ALL:memory"}); err != nil {
			t.Fatalf("NewMatcher on an accepted graph: %v", err)
		}
		graph.CheckRoundTrip(t, g)
	})
}
