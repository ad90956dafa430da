package scenarios

import (
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/strictyaml"
)

// nodeDecoder is implemented by schema types with their own YAML form
// (quantities, distributions). Errors it returns are located by the caller.
type nodeDecoder interface {
	decodeYAML(n *yaml.Node) error
}

var nodeDecoderType = reflect.TypeFor[nodeDecoder]()

var kindName = strictyaml.KindName

// newDecoder returns the strict decoder of scenario and app model files:
// errors are *Error, unknown keys get a "did you mean", and nodeDecoder
// types decode themselves.
func newDecoder() *strictyaml.Decoder {
	return &strictyaml.Decoder{
		Err: func(path string, line int, msg string) error { return &Error{Path: path, Line: line, Msg: msg} },
		Custom: func(p any) func(*yaml.Node) error {
			if nd, ok := p.(nodeDecoder); ok {
				return nd.decodeYAML
			}
			return nil
		},
		Join:    join,
		Suggest: true,
	}
}
