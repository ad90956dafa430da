package traces

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// The application readers (lammpslog.go, streamml.go, bootstrap.go)
// read what the applications and their launchers recorded in the data
// the application and launcher models are calibrated to: LAMMPS logs,
// the lammps-stream-ml results JSON, the operator-bootstrap table. Like
// the measurement readers they are not trace formats (they hold no
// jobs, pods or nodes, and are not registered with the detector of sim
// trace), and follow the same convention: a gzip file is decompressed,
// at most limitio.DataTable bytes (decompressed) are read, every error
// about the content is an *InputError naming the file, the line where
// known and the field, and no input makes them panic.

// appReader is the decompressed content of r, at most
// limitio.DataTable bytes of it (more is a *limitio.TooLargeError
// naming the file, kind and limit).
func appReader(name string, r io.Reader, kind string) (io.Reader, error) {
	in, err := NewInput(r, name)
	if err != nil {
		return nil, &InputError{File: name, Msg: strings.TrimPrefix(err.Error(), name+": ")}
	}
	return limitio.Reader(in.Reader(), name, limitio.DataTable, kind), nil
}

// appStreamErr names the file and line of an error of the input stream
// of an application reader (see measStreamErr); an over-long line is
// one clear error.
func appStreamErr(name string, line int, err error, maxLine int) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return &InputError{File: name, Line: line, Msg: fmt.Sprintf("a line longer than %s (is it the right file?)", limitio.Size(int64(maxLine)))}
	}
	return measStreamErr(name, line, err)
}

// Flag3 reads the three positive integers after flag in a recorded
// command line (AMG's -n 188 144 128 and -P 12 8 2 in the launcher's
// "+ mpirun …" line of a canopie22 log). It reports false when flag is
// absent, or not followed by three positive integers.
func Flag3(cmd, flag string) ([3]int, bool) {
	f := strings.Fields(cmd)
	for i := 0; i+3 < len(f); i++ {
		if f[i] != flag {
			continue
		}
		var v [3]int
		for k := range 3 {
			n, err := strconv.Atoi(f[i+1+k])
			if err != nil || n <= 0 {
				return v, false
			}
			v[k] = n
		}
		return v, true
	}
	return [3]int{}, false
}
