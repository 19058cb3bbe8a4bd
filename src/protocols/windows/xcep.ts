import { NS, soapEnvelope, type SoapRequest } from './soap.ts';
import { SoapFault } from './soap-faults.ts';
import { isElement } from './xml.ts';

export const GET_POLICIES_ACTION = `${NS.policy}/IPolicy/GetPolicies`;
const GET_POLICIES_RESPONSE_ACTION = `${NS.policy}/IPolicy/GetPoliciesResponse`;

/** What the device's key and request must meet; the CA checks the key again when it signs. */
export const MIN_KEY_LENGTH = 2048;
const CERTIFICATE_VALIDITY_SECONDS = 365 * 86_400;

export function assertGetPolicies(request: SoapRequest): void {
  if (!isElement(request.payload, NS.policy, 'GetPolicies')) throw new SoapFault('MessageFormat', 'The message is not a GetPolicies request.');
}

/**
 * MS-XCEP GetPoliciesResponse with one policy: an RSA key of at least 2048 bits and SHA-256
 * (OID 2.16.840.1.101.3.4.2.1), as in MS-MDE2 section 4.2.2.
 */
export function getPoliciesResponse(request: SoapRequest): string {
  const nil = (name: string) => `<${name} xsi:nil="true"/>`;
  const body =
    `<GetPoliciesResponse xmlns="${NS.policy}">` +
    `<response>` +
    `<policyID/>` +
    nil('policyFriendlyName') +
    nil('nextUpdateHours') +
    nil('policiesNotChanged') +
    `<policies><policy>` +
    `<policyOIDReference>0</policyOIDReference>` +
    nil('cAs') +
    `<attributes>` +
    `<commonName>Openroll</commonName>` +
    `<policySchema>3</policySchema>` +
    `<certificateValidity><validityPeriodSeconds>${CERTIFICATE_VALIDITY_SECONDS}</validityPeriodSeconds><renewalPeriodSeconds>${30 * 86_400}</renewalPeriodSeconds></certificateValidity>` +
    `<permission><enroll>true</enroll><autoEnroll>false</autoEnroll></permission>` +
    `<privateKeyAttributes>` +
    `<minimalKeyLength>${MIN_KEY_LENGTH}</minimalKeyLength>` +
    nil('keySpec') +
    nil('keyUsageProperty') +
    nil('permissions') +
    nil('algorithmOIDReference') +
    nil('cryptoProviders') +
    `</privateKeyAttributes>` +
    `<revision><majorRevision>101</majorRevision><minorRevision>0</minorRevision></revision>` +
    nil('supersededPolicies') +
    nil('privateKeyFlags') +
    nil('subjectNameFlags') +
    nil('enrollmentFlags') +
    nil('generalFlags') +
    `<hashAlgorithmOIDReference>0</hashAlgorithmOIDReference>` +
    nil('rARequirements') +
    nil('keyArchivalAttributes') +
    nil('extensions') +
    `</attributes>` +
    `</policy></policies>` +
    `</response>` +
    nil('cAs') +
    `<oIDs><oID><value>2.16.840.1.101.3.4.2.1</value><group>1</group><oIDReferenceID>0</oIDReferenceID><defaultName>szOID_NIST_sha256</defaultName></oID></oIDs>` +
    `</GetPoliciesResponse>`;
  return soapEnvelope({ action: GET_POLICIES_RESPONSE_ACTION, relatesTo: request.messageId, body });
}
