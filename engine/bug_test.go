package engine

import (
	"os"
	"testing"
)

// bug skips a test that demonstrates a known bug, with the explanation,
// unless CONVERGE_RUN_BUGS=1 is set (enginetest.Bug for package engine's
// own tests, which cannot import enginetest).
func bug(t testing.TB, explanation string) {
	t.Helper()
	if os.Getenv("CONVERGE_RUN_BUGS") != "1" {
		t.Skip("BUG: " + explanation)
	}
}
