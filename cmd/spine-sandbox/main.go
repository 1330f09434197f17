// Command spine-sandbox is a simulated NHS Spine for GP Connect: mock PDS,
// SDS and Spine Secure Proxy and a fake GP Connect provider on one
// listener, driven by YAML scenarios.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
