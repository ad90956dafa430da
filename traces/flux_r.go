package traces

import (
	"slices"
	"strconv"
)

// R is Flux's resource set (RFC 20, version 1): {"version": 1,
// "execution": {"R_lite": [{"rank": "0-32", "children": {"core": "0-15",
// "gpu": "0-1"}}], "nodelist": ["host[0-32]"], "properties": {"name":
// "idset"}, "starttime": s, "expiration": s}} — the resources of an
// instance (flux resource R) or of one job's allocation (flux job info
// <id> R). Each rank is a node of the trace: its name from the nodelist
// (the hostlists concatenated, in rank order; "rank<N>" when there is
// none), its cores (CPU, in millicores) and GPUs from its children,
// labels flux.rank and flux.property.<name>; a node already in the trace
// by that name is not added again. When starttime or expiration is set,
// R is a job's allocation: a job (its id the file's name) with Alloc and
// Start at starttime, Walltime expiration − starttime, its NodeList,
// Nodes and Procs (cores), and no status.

func init() {
	register(&Format{
		Name:   "R",
		Doc:    "Flux resource set R (RFC 20): the nodes of an instance or of a job's allocation",
		Detect: func(_ []byte, keys []string) bool { return hasKeys(keys, "version", "execution") },
		Read:   readR,
		Ext:    ".json",
	})
}

func readR(in *Input, t *Trace) error {
	s := in.JSON()
	var doc map[string]any
	if err := s.Decode("", &doc); err != nil {
		return err
	}
	if err := s.End(); err != nil {
		return err
	}
	f := &fxFields{in: in}
	if doc == nil {
		return in.Errorf(0, "", "not an R document (an object with version and execution)")
	}
	if v, ok := f.fxInteger(doc, "version", 1, 1); !ok || v != 1 {
		if f.err == nil {
			f.fail("version", "missing (R version 1 expected)")
		}
		return f.err
	}
	ex := f.obj(doc, "execution")
	if f.err == nil && ex == nil {
		f.fail("execution", "missing")
	}
	if f.err != nil {
		return f.err
	}
	ef := f.sub("execution")
	type rank struct {
		id          int
		cores, gpus int
	}
	var ranks []rank
	seen := map[int]bool{}
	for i, v := range ef.list(ex, "R_lite") {
		p := "R_lite[" + strconv.Itoa(i) + "]"
		e, ok := v.(map[string]any)
		if !ok {
			ef.fail(p, "a %s where an object is expected", fxKindOf(v))
			break
		}
		rf := ef.sub(p)
		ids, err := ExpandIDSet(rf.str(e, "rank"))
		if err != nil {
			rf.fail("rank", "%v", err)
		} else if rf.err == nil && len(ids) == 0 {
			rf.fail("rank", "missing or empty")
		}
		ch := rf.obj(e, "children")
		cf := rf.sub("children")
		count := func(key string) int {
			s := cf.str(ch, key)
			if cf.err != nil || s == "" {
				return 0
			}
			n, err := fxCountIDSet(s)
			if err != nil {
				cf.fail(key, "%v", err)
			}
			return n
		}
		cores, gpus := count("core"), count("gpu")
		rf.keep(cf)
		ef.keep(rf)
		if ef.err != nil {
			break
		}
		if len(ranks)+len(ids) > MaxExpand {
			ef.fail(p, "more than %d ranks", MaxExpand)
			break
		}
		for _, id := range ids {
			if seen[id] {
				ef.fail(p+".rank", "rank %d given twice", id)
				break
			}
			seen[id] = true
			ranks = append(ranks, rank{id, cores, gpus})
		}
	}
	f.keep(ef)
	if f.err != nil {
		return f.err
	}
	if len(ranks) == 0 {
		f.fail("execution.R_lite", "missing or empty (R lists its ranks)")
		return f.err
	}
	slices.SortFunc(ranks, func(a, b rank) int { return a.id - b.id })
	var names []string
	for i, v := range ef.list(ex, "nodelist") {
		hl, ok := v.(string)
		if !ok {
			ef.fail("nodelist["+strconv.Itoa(i)+"]", "a %s where a hostlist is expected", fxKindOf(v))
			break
		}
		n, err := ExpandHostlist(hl)
		if err == nil && len(names)+len(n) > MaxExpand {
			err = fxErrTooMany
		}
		if err != nil {
			ef.fail("nodelist["+strconv.Itoa(i)+"]", "%v", err)
			break
		}
		names = append(names, n...)
	}
	if ef.err == nil && names != nil && len(names) != len(ranks) {
		ef.fail("nodelist", "%d hosts for %d ranks", len(names), len(ranks))
	}
	props := map[int][]string{}
	listed := 0
	for name, v := range ef.obj(ex, "properties") {
		s, ok := v.(string)
		var ids []int
		var err error
		if ok {
			ids, err = ExpandIDSet(s)
		}
		if !ok || err != nil {
			ef.fail("properties."+name, "not an idset of ranks")
			break
		}
		if listed += len(ids); listed > 4*MaxExpand {
			ef.fail("properties", "more than %d ranks in all", 4*MaxExpand)
			break
		}
		for _, id := range ids {
			props[id] = append(props[id], name)
		}
	}
	start := ef.time(ex, "starttime")
	expiration := ef.time(ex, "expiration")
	f.keep(ef)
	if f.err != nil {
		return f.err
	}

	have := make(map[string]bool, len(t.Nodes))
	for _, n := range t.Nodes {
		have[n.Name] = true
	}
	var list []string
	procs := 0
	for i, r := range ranks {
		name := "rank" + strconv.Itoa(r.id)
		if names != nil {
			name = names[i]
		}
		list = append(list, name)
		procs += r.cores
		if have[name] {
			continue
		}
		have[name] = true
		labels := map[string]string{"flux.rank": strconv.Itoa(r.id)}
		ps := props[r.id]
		slices.Sort(ps)
		for _, p := range ps {
			labels["flux.property."+p] = "true"
		}
		t.Nodes = append(t.Nodes, &Node{Name: name, CPU: int64(r.cores) * 1000, GPU: int64(r.gpus), Labels: labels, Ready: true})
	}
	if names == nil {
		t.Note("flux-r-nodelist", in.Name, "an R without a nodelist: its nodes are named rank<N>")
	}
	if !Known(start) && !Known(expiration) {
		return nil
	}
	j := NewJob(fxFileJobID(in.Name))
	j.Kind, j.Scheduler = fluxKind, "flux"
	j.Alloc, j.Start = start, start
	if Known(start) && Known(expiration) {
		if expiration < start {
			return in.Errorf(0, "execution.expiration", "%s is before starttime %s", fxTime(expiration), fxTime(start))
		}
		j.Walltime = expiration - start
	}
	if Known(expiration) {
		fxSetParam(j, "flux.expiration", string(fxTime(expiration)))
	}
	j.NodeList, j.Nodes, j.Procs = list, len(list), procs
	t.Note("flux-r-job", j.ID, "an R records an allocation (its start and expiration): the job's submit, end and status are not in it")
	tj, added := t.Job(j.ID)
	if !added {
		return in.Errorf(0, "", "job %s is already in the trace (read twice?)", quote(j.ID))
	}
	*tj = *j
	return nil
}
