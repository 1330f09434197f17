package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/version"
)

// Main runs the command and returns its exit code: 0 on success (for book:
// only when booked), 1 on a runtime error, 2 on a usage error.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		fmt.Fprintln(stdout, version.String("gpc-consumer"))
		return 0
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		if len(args) == 1 || args[0] != "help" {
			fmt.Fprint(stdout, usage())
			return 0
		}
		args = []string{args[1], "--help"}
	}
	o, err := parseConfig(args, getenv, os.ReadFile)
	var h helpRequested
	if errors.As(err, &h) {
		fmt.Fprint(stdout, string(h))
		return 0
	}
	if err != nil {
		var u errUsage
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "gpc-consumer: %v\n\n%s", err, usage())
			return 2
		}
		fmt.Fprintf(stderr, "gpc-consumer: %v\n", err)
		return 2
	}
	return run(context.Background(), o, nil, stdout, stderr)
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: gpc-consumer COMMAND --nhs-number N [--pds URL --sds URL --ssp URL] [--ods CODE]\n" +
		"       [--from DATE] [--to DATE] [--json] [--config FILE] [--cert F --key F] [--ca F] [--timeout D] ...\n\ncommands:\n")
	for _, c := range []string{"book", "slots", "appointments", "cancel", "amend"} {
		fmt.Fprintf(&b, "  %-13s %s\n", c, commands[c])
	}
	b.WriteString("\nrun 'gpc-consumer help COMMAND' (or 'COMMAND -h') for its flags and GPC_* environment variables;\n" +
		"gpc-consumer --version for the build\n")
	return b.String()
}

// result is the --json output.
type result struct {
	Command      string              `json:"command"`
	OK           bool                `json:"ok"`
	NHSNumber    string              `json:"nhs_number,omitempty"`
	SupersededBy string              `json:"superseded_by,omitempty"`
	ODS          string              `json:"ods,omitempty"`
	Warnings     []string            `json:"warnings,omitempty"`
	PatientID    string              `json:"patient_id,omitempty"`
	Registered   bool                `json:"registered,omitempty"`
	Reconciled   bool                `json:"reconciled,omitempty"`
	Slot         *consumer.Slot      `json:"slot,omitempty"`
	Slots        []consumer.Slot     `json:"slots,omitempty"`
	Appointment  *stu3.Appointment   `json:"appointment,omitempty"`
	Appointments []*stu3.Appointment `json:"appointments,omitempty"`
	Hops         []hopJSON           `json:"hops"`
	Error        *errorJSON          `json:"error,omitempty"`
}

type hopJSON struct {
	Step        string `json:"step"`
	Service     string `json:"service"`
	Interaction string `json:"interaction,omitempty"`
	Method      string `json:"method"`
	URL         string `json:"url"`
	Status      int    `json:"status"`
	Millis      int64  `json:"ms"`
	Error       string `json:"error,omitempty"`
}

type errorJSON struct {
	Message     string `json:"message"`
	Kind        string `json:"kind,omitempty"`
	Hop         string `json:"hop,omitempty"`
	Step        string `json:"step,omitempty"`
	Status      int    `json:"status,omitempty"`
	Code        string `json:"code,omitempty"`
	Diagnostics string `json:"diagnostics,omitempty"`
}

// run executes o; hc, when not nil, replaces the HTTP client (tests).
func run(ctx context.Context, o *options, hc *http.Client, stdout, stderr io.Writer) int {
	res := &result{Command: o.Command, NHSNumber: o.NHSNumber, Hops: []hopJSON{}}
	var mu sync.Mutex
	legend := false
	observe := func(h consumer.Hop) {
		mu.Lock()
		defer mu.Unlock()
		hj := hopJSON{Step: h.Step, Service: h.Service, Interaction: string(h.Interaction), Method: h.Method, URL: h.URL,
			Status: h.Status, Millis: h.Duration.Milliseconds()}
		if h.Err != nil {
			hj.Error = h.Err.Error()
		}
		res.Hops = append(res.Hops, hj)
		if !o.JSON {
			status := fmt.Sprint(h.Status)
			if h.Err != nil {
				status = "error: " + h.Err.Error()
			}
			if !legend {
				fmt.Fprint(stdout, stepLegend+"\n")
				legend = true
			}
			u := h.URL
			if !o.Verbose {
				u = shortURL(u)
			}
			fmt.Fprintf(stdout, "%-6s %-4s %-4s %s → %s (%s)\n", h.Step, h.Service, h.Method, u, status, h.Duration.Round(time.Millisecond))
		}
	}
	if hc == nil && (o.Cert != "" || o.CA != "") {
		var err error
		if hc, err = consumer.TLSClient(o.Cert, o.Key, o.CA); err != nil {
			fmt.Fprintf(stderr, "gpc-consumer: %v\n", err)
			return 1
		}
	}
	cl, err := consumer.New(consumer.Config{
		PDS: o.PDS, SDS: o.SDS, SSP: o.SSP, ASID: o.ASID, APIKey: o.APIKey, OrgTelecom: o.OrgTelecom,
		Identity: jwt.Identity{
			Issuer: o.Issuer, DeviceID: o.DeviceID, DeviceModel: "gpc-consumer", DeviceVersion: "1.0.0",
			OrgODS: o.ODSSelf, OrgName: o.OrgName, PractitionerID: o.PractID,
			SDSUserID: o.SDSUserID, SDSRoleProfileID: o.RoleProfile,
			Family: o.PractFamily, Given: o.PractGiven, Prefix: o.PractPrefix,
		},
		HTTPClient: hc, Timeout: o.Timeout, Observer: observe,
	})
	if err != nil {
		fmt.Fprintf(stderr, "gpc-consumer: %v\n", err)
		return 2
	}
	s := cl.NewSession()
	err = execute(ctx, s, o, res, stdout)
	res.OK = err == nil
	if err != nil {
		res.Error = describe(err)
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gpc-consumer: %v\n", err)
		return 1
	}
	return 0
}

func describe(err error) *errorJSON {
	ej := &errorJSON{Message: err.Error()}
	if e, ok := consumer.AsError(err); ok {
		ej.Kind, ej.Hop, ej.Step, ej.Status, ej.Code, ej.Diagnostics = e.Kind.Error(), e.Hop, e.Step, e.Status, e.Code, e.Diagnostics
	}
	return ej
}

// request is the consumer's request for o: the flags as they are, every
// rule about windows and defaults is the consumer's (consumer.Session.Do),
// as it is for the runner.
func request(o *options) consumer.Request {
	return consumer.Request{Action: o.Command, NHSNumber: o.NHSNumber, ODS: o.ODS, From: o.From, To: o.To, Windows: o.Windows,
		Prefer: consumer.Preference{Channel: o.Channel}, Description: o.Description, Comment: o.Comment, Reason: o.Reason, AppointmentID: o.ID}
}

// execute does o's action and notes what it learned in res; the text
// lines go to stdout unless --json.
func execute(ctx context.Context, s *consumer.Session, o *options, res *result, stdout io.Writer) error {
	r, err := s.Do(ctx, request(o))
	if r.Trace != nil {
		noteTrace(res, r.Trace)
	}
	res.ODS = r.ODS
	if r.Patient != nil {
		res.PatientID, res.Registered = r.Patient.ID, r.Patient.Registered
	}
	if err != nil {
		return err
	}
	switch o.Command {
	case consumer.ActionBook:
		b := r.Booking
		res.Reconciled = b.Reconciled
		res.Slot, res.Appointment = &b.Slot, b.Appointment.Resource
		if !o.JSON {
			a := b.Appointment.Resource
			fmt.Fprintf(stdout, "booked appointment %s at %s for patient %s: %s – %s, %s, %s %s\n",
				a.ID, b.ODS, b.Patient.ID, a.Start, a.End, b.Slot.LocationName, b.Slot.Channel, b.Slot.Practitioner)
			if b.Reconciled {
				fmt.Fprintln(stdout, "(the book call got no answer; the appointment was found by listing the patient's appointments)")
			}
		}
	case consumer.ActionSlots:
		res.Slots = r.Slots
		if !o.JSON {
			for _, sl := range res.Slots {
				fmt.Fprintf(stdout, "slot %s  %s – %s  %s  %s  %s\n", sl.ID, sl.Start, sl.End, sl.Channel, sl.LocationName, sl.Practitioner)
			}
			fmt.Fprintf(stdout, "%d free slots\n", len(res.Slots))
		}
	case consumer.ActionAppointments:
		res.Appointments = r.Appointments
		if !o.JSON {
			for _, a := range r.Appointments {
				fmt.Fprintf(stdout, "appointment %s  %s  %s – %s  %s\n", a.ID, a.Status, a.Start, a.End, a.Description)
			}
			fmt.Fprintf(stdout, "%d appointments\n", len(r.Appointments))
		}
	case consumer.ActionCancel, consumer.ActionAmend:
		a := r.Appointment
		res.Appointment = a.Resource
		if !o.JSON {
			fmt.Fprintf(stdout, "appointment %s is %s (version %s): %s\n", a.ID(), a.Resource.Status, a.ETag, a.Resource.Description)
		}
	}
	return nil
}

func noteTrace(res *result, t *consumer.Trace) {
	res.Warnings = t.Warnings
	if t.Superseded {
		res.SupersededBy = t.NHSNumber
	}
}
