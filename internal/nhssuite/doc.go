// Package nhssuite has no code of its own: its test expresses the cases of
// NHS's GP Connect provider test suite (nhsconnect/gpconnect-provider-testing,
// branch feature/1.6.0, the @1.6.0-Full-Pack features for Foundations,
// Appointment Management, JWT, HTTP and the SSP) as HTTP requests a
// consumer sends through the sandbox's SSP to its provider, and measures
// how many are answered with the suite's status and Spine code. Each row
// names the feature file and scenario it comes from. Where the spec and the
// suite disagree the sandbox follows the spec; such rows carry the
// sandbox's own answer, and docs/conformance-checks.md ("Differs from NHS's
// suite because…") says why. The suite's code is not copied: only the
// facts its cases state (what is sent, which status and code come back).
package nhssuite
