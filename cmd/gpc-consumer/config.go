package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
)

// Defaults match the sandbox's built-in world and default listener.
const (
	defaultPDS     = "http://127.0.0.1:4000/personal-demographics/FHIR/R4"
	defaultSDS     = "http://127.0.0.1:4000/spine-directory/FHIR/R4"
	defaultSSP     = "http://127.0.0.1:4000/ssp/"
	defaultASID    = "200000000115"
	defaultODS     = "A1001"
	defaultOrgName = "Sandbox Consumer Practice"
)

// commands are the subcommands and what each one is for.
var commands = map[string]string{
	"book":         "trace the patient, find a free slot and book it",
	"slots":        "list free slots at the patient's (or --ods) practice",
	"appointments": "list the patient's appointments",
	"cancel":       "cancel appointment --id",
	"amend":        "change the description or comment of appointment --id",
}

// fileConfig is what --config may set (YAML or JSON, same keys); flags
// and environment variables override it.
type fileConfig struct {
	PDS         string   `yaml:"pds" json:"pds"`
	SDS         string   `yaml:"sds" json:"sds"`
	SSP         string   `yaml:"ssp" json:"ssp"`
	ASID        string   `yaml:"asid" json:"asid"`
	ODSSelf     string   `yaml:"ods_self" json:"ods_self"`
	OrgName     string   `yaml:"org_name" json:"org_name"`
	OrgTelecom  string   `yaml:"org_telecom" json:"org_telecom"`
	Issuer      string   `yaml:"issuer" json:"issuer"`
	APIKey      string   `yaml:"apikey" json:"apikey"`
	PractID     string   `yaml:"practitioner_id" json:"practitioner_id"`
	PractFamily string   `yaml:"practitioner_family" json:"practitioner_family"`
	PractGiven  []string `yaml:"practitioner_given" json:"practitioner_given"`
	PractPrefix []string `yaml:"practitioner_prefix" json:"practitioner_prefix"`
	SDSUserID   string   `yaml:"sds_user_id" json:"sds_user_id"`
	RoleProfile string   `yaml:"sds_role_profile_id" json:"sds_role_profile_id"`
	DeviceID    string   `yaml:"device_id" json:"device_id"`
	Cert        string   `yaml:"cert" json:"cert"`
	Key         string   `yaml:"key" json:"key"`
	CA          string   `yaml:"ca" json:"ca"`
}

// options is the parsed command line.
type options struct {
	Command string
	fileConfig
	NHSNumber   string
	ODS         string // target practice
	From, To    time.Time
	Windows     int
	JSON        bool
	Timeout     time.Duration
	ID          string // appointment id (cancel, amend)
	Reason      string
	Description string
	Comment     string
	Channel     string
	Verbose     bool // full URLs in the request lines
}

// errUsage marks a usage error (exit 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// parseConfig is a pure function of the arguments, the environment and the
// config file reader: flags beat GPC_* variables, which beat the file,
// which beats the defaults.
func parseConfig(args []string, getenv func(string) string, readFile func(string) ([]byte, error)) (*options, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !clihelp.Wants(args[:1]) {
		return nil, usagef("missing command: one of book, slots, appointments, cancel, amend")
	}
	o := &options{Command: args[0]}
	if _, ok := commands[o.Command]; !ok {
		return nil, usagef("unknown command %q: want one of book, slots, appointments, cancel, amend", o.Command)
	}
	o.fileConfig = fileConfig{PDS: defaultPDS, SDS: defaultSDS, SSP: defaultSSP, ASID: defaultASID, ODSSelf: defaultODS,
		OrgName: defaultOrgName, OrgTelecom: "0300 303 5678", Issuer: "https://gpc-consumer.sandbox.invalid/",
		PractID: "1", PractFamily: "Sandbox", PractGiven: []string{"Sam"}, PractPrefix: []string{"Dr"},
		SDSUserID: "UNK", DeviceID: "gpc-consumer"}

	// The config file comes first, so that everything else overrides it.
	if path := configPath(args[1:], getenv); path != "" {
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decodeFile(b, &o.fileConfig); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for env, dst := range map[string]*string{"GPC_PDS": &o.PDS, "GPC_SDS": &o.SDS, "GPC_SSP": &o.SSP, "GPC_ASID": &o.ASID,
		"GPC_ODS_SELF": &o.ODSSelf, "GPC_ORG_NAME": &o.OrgName, "GPC_APIKEY": &o.APIKey} {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}

	fs := flag.NewFlagSet("gpc-consumer "+o.Command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var from, to, given, prefix string
	fs.String("config", "", "YAML or JSON file with the settings below")
	fs.StringVar(&o.PDS, "pds", o.PDS, "PDS FHIR R4 base URL")
	fs.StringVar(&o.SDS, "sds", o.SDS, "SDS FHIR R4 base URL, or the LDAP directory as ldap[s]://host:port (gpconnect-1.6.md §1.2a)")
	fs.StringVar(&o.SSP, "ssp", o.SSP, "Spine Secure Proxy base URL")
	fs.StringVar(&o.NHSNumber, "nhs-number", "", "the patient's NHS number")
	fs.StringVar(&o.ODS, "ods", "", "book at the practice with this ODS `CODE` instead of the registered one")
	fs.StringVar(&from, "from", "", "first day to search, YYYY-MM-DD (default today)")
	fs.StringVar(&to, "to", "", "last day to search, YYYY-MM-DD (default: 14 days on for slots, 28 for appointments)")
	fs.IntVar(&o.Windows, "windows", 0, "slot searches of up to 14 days to make in all (book, slots; default 4, or those covering --to)")
	fs.StringVar(&o.ASID, "asid", o.ASID, "the consumer's ASID")
	fs.StringVar(&o.ODSSelf, "ods-self", o.ODSSelf, "the consumer organisation's ODS code")
	fs.StringVar(&o.OrgName, "org-name", o.OrgName, "the consumer organisation's name")
	fs.StringVar(&o.OrgTelecom, "org-telecom", o.OrgTelecom, "the consumer organisation's phone number")
	fs.StringVar(&o.Issuer, "issuer", o.Issuer, "JWT iss: the consumer's endpoint URL")
	fs.StringVar(&o.APIKey, "apikey", o.APIKey, "SDS API key")
	fs.StringVar(&o.PractID, "practitioner-id", o.PractID, "the user's id (JWT sub)")
	fs.StringVar(&o.PractFamily, "practitioner-family", o.PractFamily, "the user's family name")
	fs.StringVar(&given, "practitioner-given", strings.Join(o.PractGiven, ","), "the user's given names, comma-separated")
	fs.StringVar(&prefix, "practitioner-prefix", strings.Join(o.PractPrefix, ","), "the user's name prefixes, comma-separated")
	fs.StringVar(&o.SDSUserID, "practitioner-sds-user-id", o.SDSUserID, "the user's SDS user id (UNK if none)")
	fs.StringVar(&o.RoleProfile, "practitioner-role-profile-id", o.RoleProfile, "the user's SDS role profile id")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON result instead of the hops")
	fs.StringVar(&o.Cert, "cert", o.Cert, "client certificate (PEM) for mutual TLS")
	fs.StringVar(&o.Key, "key", o.Key, "client key (PEM) for mutual TLS")
	fs.StringVar(&o.CA, "ca", o.CA, "CA certificates (PEM) to trust")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "timeout of each HTTP call")
	fs.StringVar(&o.ID, "id", "", "appointment id (cancel, amend)")
	fs.StringVar(&o.Reason, "reason", "", "cancellation reason")
	fs.StringVar(&o.Description, "description", "", "appointment description (≤ 100 characters)")
	fs.StringVar(&o.Comment, "comment", "", "appointment comment (≤ 500 characters)")
	fs.StringVar(&o.Channel, "channel", "", "book only slots with this delivery channel (In-person, Telephone, Video)")
	fs.BoolVar(&o.Verbose, "v", false, "print each request's full URL, not only its path")
	if clihelp.Wants(args[1:]) {
		return nil, helpRequested(commandHelp(o.Command, fs))
	}
	if err := fs.Parse(args[1:]); err != nil {
		return nil, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	o.PractGiven = splitList(given)
	o.PractPrefix = splitList(prefix)
	var err error
	if o.From, err = parseDate("from", from); err != nil {
		return nil, err
	}
	if o.To, err = parseDate("to", to); err != nil {
		return nil, err
	}
	if !o.From.IsZero() && !o.To.IsZero() && o.To.Before(o.From) {
		return nil, usagef("--to %s is before --from %s", to, from)
	}
	if o.Timeout <= 0 {
		return nil, usagef("--timeout must be positive")
	}
	if o.Windows < 0 {
		return nil, usagef("--windows must not be negative")
	}
	if (o.Cert == "") != (o.Key == "") {
		return nil, usagef("--cert and --key go together")
	}
	if (o.Command == "cancel" || o.Command == "amend") && o.ID == "" {
		return nil, usagef("%s needs --id", o.Command)
	}
	if o.Command == "amend" && o.Description == "" && o.Comment == "" {
		return nil, usagef("amend needs --description or --comment")
	}
	if o.NHSNumber == "" && (o.Command != "cancel" && o.Command != "amend" || o.ODS == "") {
		return nil, usagef("%s needs --nhs-number", o.Command)
	}
	if len([]rune(o.Description)) > 100 {
		return nil, usagef("--description is longer than 100 characters")
	}
	if len([]rune(o.Comment)) > 500 {
		return nil, usagef("--comment is longer than 500 characters")
	}
	return o, nil
}

// configPath finds --config (or GPC_CONFIG) before the full parse.
func configPath(args []string, getenv func(string) string) string {
	path := getenv("GPC_CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				path = args[i+1]
			}
		case strings.HasPrefix(a, "--config="):
			path = strings.TrimPrefix(a, "--config=")
		case strings.HasPrefix(a, "-config="):
			path = strings.TrimPrefix(a, "-config=")
		}
	}
	return path
}

// decodeFile reads JSON or YAML, refusing unknown keys.
func decodeFile(b []byte, fc *fileConfig) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		return d.Decode(fc)
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(fc); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func parseDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("--%s %q is not a date YYYY-MM-DD", name, s)
	}
	return t, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
