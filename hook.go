package spinesandbox

import (
	"github.com/spine-sandbox/spine-sandbox/internal/publichook"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// The repository's own tests reach inside a Sandbox through
// internal/sandbox/sandboxtest, which this wires up.
func init() {
	publichook.Configure = func(f func(*sandbox.Config)) any {
		return Option(func(o *options) { o.configure = append(o.configure, f) })
	}
	publichook.Internals = func(v any) (*sandbox.Server, *sandbox.Session) {
		sb := v.(*Sandbox)
		return sb.srv, sb.session()
	}
}
