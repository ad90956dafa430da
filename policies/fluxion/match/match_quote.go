package match

import "github.com/convergesim/converge/internal/limitio"

// mmsgQuoteMax bounds the bytes of an input value quoted in a message.
const mmsgQuoteMax = 120

// mquoted quotes a value of the input for a message, cut to a bounded
// prefix (limitio.Quote).
func mquoted[T string | []byte](s T) string { return limitio.Quote(string(s), mmsgQuoteMax) }
