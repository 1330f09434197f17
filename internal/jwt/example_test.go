package jwt_test

import (
	"fmt"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

// A consumer builds a fresh token per request; the provider validates it
// against the interaction's scope and its own service root.
func ExampleValidate() {
	root := "https://gp.sandbox.test/B86041/STU3/1/gpconnect"
	at := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	id := jwt.Identity{
		Issuer: "https://consumer.sandbox.test/", DeviceID: "BOOKER-7", DeviceModel: "Sandbox Booker",
		DeviceVersion: "2.1.0", OrgODS: "R1A14", OrgName: "Riverside Urgent Care",
		PractitionerID: "PR-4411", Family: "Okafor", Given: []string{"Amara"},
	}
	token, err := jwt.Build(id, root, gpc.PatientRead, at)
	if err != nil {
		fmt.Println(err)
		return
	}
	slots := jwt.Expect{Audience: root, Scope: gpc.OrganizationRead, Now: at.Add(time.Minute), CheckAudience: true}
	for _, v := range jwt.Validate("Bearer "+token, slots) {
		fmt.Println(v.Status, v.Code, v.Rule)
	}
	// Output:
	// 400 BAD_REQUEST JWT_SCOPE_WRONG_FOR_INTERACTION
}
