package network

import (
	"errors"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/internal/strictyaml"
)

// InputError is a problem with an input of this package (a profile file,
// a measurement added to a fit): the file, the line (0 if unknown), the
// field path or column, and what is wrong.
type InputError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	return strictyaml.Message(e.File, e.Line, e.Field, e.Msg)
}

// Is makes every InputError match ErrBadInput.
func (e *InputError) Is(target error) bool { return target == ErrBadInput }

// ErrBadInput is matched (errors.Is) by every error about a malformed
// input.
var ErrBadInput = errors.New("network: bad input")

// quoteMax bounds the bytes of an input value quoted in a message.
const quoteMax = 80

// quote quotes a value of the input for a message, cut to a bounded
// prefix.
func quote(s string) string { return limitio.Quote(s, quoteMax) }

// clipText cuts a text for a message (unquoted, like clip in fluxion).
func clipText(s string) string {
	if len(s) <= quoteMax {
		return s
	}
	return quote(s)
}
