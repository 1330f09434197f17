// Package publichook gives the repository's own tests what the public
// package spinesandbox keeps to itself — the server and session inside a
// Sandbox, and the sandbox.Config fields no public option sets — without
// putting them in the public API. spinesandbox fills the variables in when
// it is initialised; being internal, this package is out of reach of other
// modules.
package publichook

import "github.com/spine-sandbox/spine-sandbox/internal/sandbox"

var (
	// Configure returns a spinesandbox.Option (typed any to avoid an
	// import cycle) that applies f to the sandbox's Config before it
	// starts; PublicURL is overwritten with the listener's.
	Configure func(f func(*sandbox.Config)) any
	// Internals returns the server of a *spinesandbox.Sandbox and its
	// session as it is now.
	Internals func(sb any) (*sandbox.Server, *sandbox.Session)
)
