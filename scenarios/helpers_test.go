package scenarios

import (
	"testing"

	"github.com/convergesim/converge/engine"
)

// mustRun builds and runs a scenario, failing the test on any error.
func mustRun(t testing.TB, sc *Scenario) *engine.Result {
	t.Helper()
	e, err := Build(sc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}
