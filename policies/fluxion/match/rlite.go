package match

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

// RV1 is an RFC 20 R (version 1) without the optional scheduling key.
type RV1 struct {
	Version   int          `json:"version"`
	Execution RV1Execution `json:"execution"`
}

// RV1Execution is R's execution key.
type RV1Execution struct {
	RLite      []RLiteEntry `json:"R_lite"`
	Nodelist   []string     `json:"nodelist"`
	Starttime  float64      `json:"starttime"`
	Expiration float64      `json:"expiration"`
}

// RLiteEntry is one R_lite entry: ranks (an RFC 22 idset) sharing the
// same children (type -> idset, e.g. "core": "0-3").
type RLiteEntry struct {
	Rank     string            `json:"rank"`
	Children map[string]string `json:"children"`
}

// RLite returns the allocation as RFC 20 R: per broker rank (of the node
// above each allocated vertex) the allocated core and gpu ids; entries
// with identical children are merged, in rank order; nodelist is the
// RFC 29 hostlist of the nodes in rank order; starttime and expiration
// are At and At+Duration. Ranks of -1 (graphs without ranks) are kept as
// they are; such an R cannot be fed back to Flux.
func (a *Allocation) RLite() RV1 {
	g := a.g
	type rankInfo struct {
		name     string
		children map[string][]int64
	}
	ranks := map[int64]*rankInfo{}
	get := func(node graph.VertexID) *rankInfo {
		r := g.Vertices[node].Rank
		ri := ranks[r]
		if ri == nil {
			ri = &rankInfo{name: g.Vertices[node].Name, children: map[string][]int64{}}
			ranks[r] = ri
		}
		return ri
	}
	for _, av := range a.Vertices {
		v := &g.Vertices[av.ID]
		node := g.Ancestor(av.ID, "node")
		if node == graph.NoVertex {
			continue
		}
		ri := get(node)
		if v.Type == "core" || v.Type == "gpu" {
			ri.children[v.Type] = append(ri.children[v.Type], v.ID)
		}
	}
	keys := make([]int64, 0, len(ranks))
	for r := range ranks {
		keys = append(keys, r)
	}
	slices.Sort(keys)
	out := RV1{Version: 1, Execution: RV1Execution{
		RLite:      []RLiteEntry{},
		Nodelist:   []string{},
		Starttime:  float64(a.At),
		Expiration: float64(a.At + a.Duration),
	}}
	var names []string
	groups := map[string]int{} // children signature -> entry index
	var groupRanks [][]int64
	for _, r := range keys {
		ri := ranks[r]
		names = append(names, ri.name)
		ch := map[string]string{}
		for t, ids := range ri.children {
			ch[t] = IDSet(ids)
		}
		sig, _ := json.Marshal(ch)
		i, ok := groups[string(sig)]
		if !ok {
			i = len(out.Execution.RLite)
			groups[string(sig)] = i
			out.Execution.RLite = append(out.Execution.RLite, RLiteEntry{Children: ch})
			groupRanks = append(groupRanks, nil)
		}
		groupRanks[i] = append(groupRanks[i], r)
	}
	for i := range out.Execution.RLite {
		out.Execution.RLite[i].Rank = IDSet(groupRanks[i])
	}
	if len(names) > 0 {
		out.Execution.Nodelist = []string{Hostlist(names)}
	}
	return out
}

// RLiteJSON returns RLite encoded as JSON.
func (a *Allocation) RLiteJSON() []byte {
	b, err := json.Marshal(a.RLite())
	if err != nil {
		panic("fluxion: RLiteJSON: " + err.Error())
	}
	return b
}

// IDSet formats ids as an RFC 22 idset ("0-3,7"): sorted, duplicates
// dropped, runs of 2 or more as ranges (Flux writes "0-1" for two).
func IDSet(ids []int64) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(s[i], 10))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.FormatInt(s[j], 10))
		}
		i = j + 1
	}
	return b.String()
}

// Hostlist compresses host names, kept in the given order, into an RFC 29
// hostlist: consecutive names with the same prefix and numeric suffixes
// of the same width (or no padding) become prefix[a-b,c], e.g.
// node0 node1 node2 node5 -> "node[0-2,5]". Names without a numeric
// suffix stay as they are.
func Hostlist(names []string) string {
	var parts []string
	for i := 0; i < len(names); {
		h := hlSplit(names[i])
		if h.width == 0 {
			parts = append(parts, names[i])
			i++
			continue
		}
		// The run of names with the same prefix and padding.
		var nums []int64
		j := i
		for j < len(names) {
			x := hlSplit(names[j])
			if x.width == 0 || x.prefix != h.prefix || x.padded() != h.padded() || (h.padded() && x.width != h.width) {
				break
			}
			nums = append(nums, x.num)
			j++
		}
		if len(nums) == 1 {
			parts = append(parts, names[i])
			i = j
			continue
		}
		var b strings.Builder
		b.WriteString(h.prefix)
		b.WriteByte('[')
		for k := 0; k < len(nums); {
			l := k
			for l+1 < len(nums) && nums[l+1] == nums[l]+1 {
				l++
			}
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(h.format(nums[k]))
			if l > k {
				b.WriteByte('-')
				b.WriteString(h.format(nums[l]))
			}
			k = l + 1
		}
		b.WriteByte(']')
		parts = append(parts, b.String())
		i = j
	}
	return strings.Join(parts, ",")
}

// hlHost is a host name split into prefix and numeric suffix.
type hlHost struct {
	prefix string
	num    int64
	width  int  // suffix digits; 0 if there is no suffix
	zero   bool // the suffix has a leading zero (and more than one digit)
}

func hlSplit(s string) hlHost {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 18 {
		return hlHost{prefix: s}
	}
	n, _ := strconv.ParseInt(s[i:], 10, 64)
	return hlHost{prefix: s[:i], num: n, width: len(s) - i, zero: len(s)-i > 1 && s[i] == '0'}
}

func (h hlHost) padded() bool { return h.zero }

func (h hlHost) format(n int64) string {
	d := strconv.FormatInt(n, 10)
	if h.zero && len(d) < h.width {
		d = strings.Repeat("0", h.width-len(d)) + d
	}
	return d
}
