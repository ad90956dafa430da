package traces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// flux-jobspec-events is the collection the performance study saved
// (flux-jobspec-and-events.json): an object mapping an experiment
// ("google/gke/cpu/size64") to a list of runs, each {"jobspec": a
// jobspec, "events": the run's exec eventlog entries}. Each run is a job
// with ID "<experiment>#<i>" (i the run's index in its list, from 0),
// Params experiment, its requests from the jobspec (as the jobspec
// format reads them), Start at shell.start (starting when there is
// none), End at complete, its status from complete's wait status, and
// the exec events. The collection holds no submit or alloc times (a
// note says so). Read experiment by experiment, run by run.

func init() {
	register(&Format{
		Name:   "flux-jobspec-events",
		Doc:    "Flux jobspecs with their exec eventlogs by experiment (the performance study's flux-jobspec-and-events.json)",
		Detect: detectJobspecEvents,
		Read:   readJobspecEvents,
		Ext:    ".json",
	})
}

// detectJobspecEvents looks for {"<name>": [{"jobspec"|"events": ...,
// passing experiments with no runs.
func detectJobspecEvents(head []byte, _ []string) bool {
	d := json.NewDecoder(bytes.NewReader(head))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for {
		if tok, err := d.Token(); err != nil {
			return false
		} else if _, ok := tok.(string); !ok {
			return false
		}
		if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
			return false
		}
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if tok == json.Delim(']') {
			continue
		}
		if tok != json.Delim('{') {
			return false
		}
		tok, err = d.Token()
		k, _ := tok.(string)
		return err == nil && (k == "jobspec" || k == "events")
	}
}

func readJobspecEvents(in *Input, t *Trace) error {
	s := in.JSON()
	if err := s.Delim("", '{'); err != nil {
		return err
	}
	runs := 0
	for {
		exp, ok, err := s.Key("")
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		err = s.Items(exp, func(i int) error {
			start := s.Offset()
			path := fmt.Sprintf("%s[%d]", exp, i)
			var m map[string]any
			if err := s.Decode(path, &m); err != nil {
				return err
			}
			if err := jobspecEventsRun(in, t, m, exp, i, path, 0); err != nil {
				// Again, naming the line where the run starts (found
				// only for an error: it reads the file again).
				return jobspecEventsRun(in, t, m, exp, i, path, in.ValueLineAt(start))
			}
			runs++
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := s.End(); err != nil {
		return err
	}
	if runs > 0 {
		t.Note("flux-jobspec-events-submit", in.Name, "the runs' submit and alloc times are not recorded (exec eventlogs only): Start is the job shells' start")
	}
	return nil
}

// jobspecEventsRun adds one run.
func jobspecEventsRun(in *Input, t *Trace, m map[string]any, exp string, i int, path string, line int) error {
	f := &fxFields{in: in, line: line, prefix: path}
	if m == nil {
		f.fail("", "null where a run object ({jobspec, events}) is expected")
		return f.err
	}
	id := exp + "#" + strconv.Itoa(i)
	if t.FindJob(id) != nil {
		f.fail("", "job %s is already in the trace (read twice?)", quote(id))
		return f.err
	}
	j := fxNewJob(id, line)
	js := f.obj(m, "jobspec")
	if f.err != nil {
		return f.err
	}
	if js == nil {
		f.fail("jobspec", "missing")
		return f.err
	}
	if err := fxJobspecRequest(f.sub("jobspec"), t, js, j); err != nil {
		return err
	}
	fxSetParam(j, "experiment", exp)
	events := f.list(m, "events")
	if f.err != nil {
		return f.err
	}
	if len(events) == 0 {
		f.fail("events", "missing or empty (a run has its exec eventlog)")
		return f.err
	}
	x := fxNewExecLog(j)
	for k, v := range events {
		ef := f.sub(fmt.Sprintf("events[%d]", k))
		em, ok := v.(map[string]any)
		if !ok {
			ef.fail("", "a %s where an event object is expected", fxKindOf(v))
			return ef.err
		}
		ev, err := fxEventFrom(ef, em)
		if err != nil {
			return err
		}
		if err := x.event(t, ef, ev); err != nil {
			return err
		}
	}
	x.done(t)
	tj, _ := t.Job(id)
	*tj = *j
	return nil
}
