package gpc

// Identifier and code systems used across PDS, SDS and GP Connect.
const (
	SystemNHSNumber        = "https://fhir.nhs.uk/Id/nhs-number"
	SystemODSCode          = "https://fhir.nhs.uk/Id/ods-organization-code"
	SystemODSSite          = "https://fhir.nhs.uk/Id/ods-site-code"
	SystemSDSUserID        = "https://fhir.nhs.uk/Id/sds-user-id"
	SystemSDSRoleProfileID = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	SystemInteractionID    = "https://fhir.nhs.uk/Id/nhsServiceInteractionId"
	SystemPartyKey         = "https://fhir.nhs.uk/Id/nhsMhsPartyKey"
	SystemASID             = "https://fhir.nhs.uk/Id/nhsSpineASID"
	SystemMhsFQDN          = "https://fhir.nhs.uk/Id/nhsMhsFQDN"
	SystemMhsCPAID         = "https://fhir.nhs.uk/Id/nhsMhsCPAId"
	SystemMHSID            = "https://fhir.nhs.uk/Id/nhsMHSId"
	SystemOrgType          = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1"
	SystemDeliveryChannel  = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-DeliveryChannel-1"
	SystemJobRole          = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1"
	SystemRegistrationType = "https://fhir.nhs.uk/CareConnect-RegistrationType-1"

	// SystemSpineErrorCode is the CodeSystem URL the provider emits in
	// OperationOutcome codings (gpconnect-1.6.md §6.1, later 1.6.0 fix).
	SystemSpineErrorCode = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"
	// SystemSpineErrorValueSet is the ValueSet URL the 1.6.0 page examples
	// use; consumers accept both.
	SystemSpineErrorValueSet = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
	// SystemSSPResponseCode is the coding system of the SSP's own errors
	// (gpconnect-1.6.md §1.5).
	SystemSSPResponseCode = "http://fhir.nhs.net/ValueSet/gpconnect-schedule-response-code-1-0"
	// SystemSSPOperationOutcome is the coding system of the SSP's 405 body.
	SystemSSPOperationOutcome = "https://fhir.nhs.uk/StructureDefinition/spine-operationoutcome-1"
)

// Organisation types for slot searchFilter and the booking organisation.
const (
	OrgTypeGPPractice = "gp-practice"
	OrgTypeUrgentCare = "urgent-care"
)

// Delivery channels (Extension-GPConnect-DeliveryChannel-2).
const (
	ChannelInPerson  = "In-person"
	ChannelTelephone = "Telephone"
	ChannelVideo     = "Video"
)

// Profiles and extension URLs.
const (
	ProfileOperationOutcome  = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"
	ProfilePatient           = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"
	ProfileOrganization      = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"
	ProfilePractitioner      = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1"
	ProfileLocation          = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1"
	ProfilePractitionerRole  = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-PractitionerRole-1"
	ProfileSlot              = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1"
	ProfileSchedule          = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1"
	ProfileAppointment       = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"
	ProfileSearchsetBundle   = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"
	OperationRegisterPatient = "https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-RegisterPatient-Operation-1"

	ExtBookingOrganisation   = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1"
	ExtDeliveryChannel       = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2"
	ExtPractitionerRole      = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1"
	ExtCancellationReason    = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1"
	ExtRegistrationDetails   = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1"
	ExtNHSNumberVerification = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1"
	ExtNHSCommunication      = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSCommunication-1"
)
