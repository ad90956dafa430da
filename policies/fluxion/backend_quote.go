package fluxion

import "github.com/convergesim/converge/internal/limitio"

// rquoted quotes a value of the input for a message, cut to a bounded
// prefix (limitio.Quote).
func rquoted[T string | []byte](s T) string { return limitio.Quote(string(s), 120) }
