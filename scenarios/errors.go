package scenarios

import (
	"fmt"
	"strings"

	"github.com/convergesim/converge/internal/strictyaml"
)

// Error is a problem with a scenario, located by file, line and field path.
type Error struct {
	File string // scenario file ("" if none)
	Line int    // 1-based line, 0 if unknown
	Path string // field path such as cluster.pools[1].cpu
	Msg  string
}

func (e *Error) Error() string {
	return strictyaml.Message(e.File, e.Line, e.Path, e.Msg)
}

func errorf(path string, line int, format string, args ...any) *Error {
	return &Error{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// join appends a field name or index to a path.
func join(path, field string) string {
	if path == "" {
		return field
	}
	if strings.HasPrefix(field, "[") {
		return path + field
	}
	return path + "." + field
}
