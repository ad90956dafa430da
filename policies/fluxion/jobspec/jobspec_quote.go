package jobspec

import "github.com/convergesim/converge/internal/limitio"

// jsmsgQuoteMax bounds the bytes of an input value quoted in a message.
const jsmsgQuoteMax = 120

// jsquoted quotes a value of the input for a message, cut to a bounded
// prefix (limitio.Quote).
func jsquoted[T string | []byte](s T) string { return limitio.Quote(string(s), jsmsgQuoteMax) }

// jsclip returns a user's argument for a message: as it is, or quoted and
// cut when it is long.
func jsclip(s string) string {
	if len(s) <= jsmsgQuoteMax {
		return s
	}
	return jsquoted(s)
}
