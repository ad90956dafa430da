// Package report turns a finished run (engine.Result) into metrics and
// output files.
//
// Metrics are computed from the lifecycle timestamps of jobs and pods and
// never stored anywhere else: MeasurePod and MeasureJob give the durations
// of one pod or job (start-up delay, wait, scheduling delay, run time,
// turnaround), Summarize the run's headline numbers (makespan, percentiles
// of every delay, utilisation, pods that never got scheduled or started).
// A timestamp that never happened is NaN; such pods and jobs are left out
// of the statistics and counted separately, and a run that stalled says so
// at the top of its summary.
//
// Describe computes count, mean, min, p50, p90, p99 and max. Its
// percentiles use Quantile, linear interpolation between closest ranks
// (Hyndman and Fan definition 7, as R, NumPy and Excel's PERCENTILE.INC).
//
// Write renders a run into an output folder: summary.txt (read this
// first), results.json (everything, schema version SchemaVersion),
// jobs.csv, pods.csv and events.jsonl, the figures (RunFigureNames: a
// Gantt chart of pods on nodes, utilisation over time, workflow models'
// predictions; PNG and SVG, drawn by report/plot) and index.html, which
// shows them with the summary (RenderIndex). docs/outputs.md defines every file,
// column and field with its unit and formula. Writes are atomic: the files
// are built in a temporary sibling folder and renamed into place, so a
// failure leaves the output folder as it was. Output is byte-identical for
// the same Result and Meta: no map iteration order reaches it and every
// float is rounded to 6 decimal places (microseconds).
package report
