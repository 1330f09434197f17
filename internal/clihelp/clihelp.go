// Package clihelp is what both commands' help and flag parsing share: the
// flag listing of a -h/--help (with defaults, hidden aliases left out),
// whether an argument list asks for help, and parsing that takes flags
// after positional arguments too (`run scenarios/ --junit x.xml`).
package clihelp

import (
	"flag"
	"fmt"
	"slices"
	"strings"
)

// Env is one environment variable a command reads and what it sets
// (usually "--flag").
type Env struct{ Name, Flag string }

// Wants reports whether args ask for help: -h, -help or --help before any
// "--".
func Wants(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// Flags lists fs's flags, sorted, each as "--name VALUE" and its usage with
// its default, leaving out the hidden ones (old names kept as aliases).
func Flags(fs *flag.FlagSet, hidden ...string) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		if slices.Contains(hidden, f.Name) {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if len(f.Name) == 1 {
			head = "  -" + f.Name
		}
		if arg != "" {
			head += " " + strings.ToUpper(arg)
		}
		fmt.Fprintln(&b, head)
		if !zero(f) {
			usage += fmt.Sprintf(" (default %s)", quote(f))
		}
		fmt.Fprintf(&b, "        %s\n", usage)
	})
	return b.String()
}

// Envs lists the environment variables and the flags they set.
func Envs(envs []Env) string {
	if len(envs) == 0 {
		return ""
	}
	width := 0
	for _, e := range envs {
		width = max(width, len(e.Name))
	}
	var b strings.Builder
	b.WriteString("\nenvironment (a flag given beats its variable):\n")
	for _, e := range envs {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, e.Name, e.Flag)
	}
	return b.String()
}

func zero(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return true
	}
	return false
}

// quote quotes a string flag's default, as flag.PrintDefaults does.
func quote(f *flag.Flag) string {
	if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
		return fmt.Sprintf("%q", f.DefValue)
	}
	return f.DefValue
}

// Parse parses args with fs, taking flags before, between and after the
// positional arguments, which it returns in order; after "--" everything
// is positional.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if i := slices.Index(args, "--"); i == 0 {
			return append(pos, args[1:]...), nil
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stopped at a positional argument, or consumed a "--"
		// (then rest is all positional): tell them apart by what preceded.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
