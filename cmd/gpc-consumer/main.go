// Command gpc-consumer is the real GP Connect consumer as a command: it
// books, lists, amends and cancels appointments through any Spine — by
// default the one `spine-sandbox serve` runs on 127.0.0.1:4000.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
