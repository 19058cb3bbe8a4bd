import { NS, soapEnvelope, type SoapRequest } from './soap.ts';
import { SoapFault } from './soap-faults.ts';
import { child, children, isElement, textOf } from './xml.ts';
import type { WindowsUrls } from '../../platforms/windows-urls.ts';

export const DISCOVER_ACTION = `${NS.enrollment}/IDiscoveryService/Discover`;
const DISCOVER_RESPONSE_ACTION = `${NS.enrollment}/IDiscoveryService/DiscoverResponse`;

/** Enrollment versions this server speaks, newest last (MS-MDE2 3.1.4.1.3.2). */
const SUPPORTED_VERSIONS = ['3.0', '4.0'] as const;

export interface DiscoverRequest {
  email: string;
  requestVersion: string;
  authPolicies: string[];
}

export function parseDiscover(request: SoapRequest): DiscoverRequest {
  const discover = request.payload;
  if (!isElement(discover, NS.enrollment, 'Discover')) throw new SoapFault('MessageFormat', 'The message is not a Discover request.');
  const req = child(discover, NS.enrollment, 'request');
  const email = textOf(child(req, NS.enrollment, 'EmailAddress'));
  const requestVersion = textOf(child(req, NS.enrollment, 'RequestVersion')) ?? '1.0';
  const authPolicies = children(child(req, NS.enrollment, 'AuthPolicies') ?? discover, NS.enrollment, 'AuthPolicy').map((p) => textOf(p) ?? '');
  if (!req || !email) throw new SoapFault('MessageFormat', 'The Discover request has no EmailAddress.');
  if (!/^\d+(\.\d+)?$/.test(requestVersion)) throw new SoapFault('MessageFormat', 'The Discover request has an invalid RequestVersion.');
  return { email, requestVersion, authPolicies };
}

/** The highest version both sides speak; a client older than 3.0 (MS-MDE v1) is refused. */
export function negotiateVersion(requested: string): string {
  const wanted = Number(requested);
  const usable = SUPPORTED_VERSIONS.filter((v) => Number(v) <= wanted);
  const chosen = usable[usable.length - 1];
  if (!chosen) throw new SoapFault('MessageFormat', `Enrollment version ${requested} is not supported; this server speaks ${SUPPORTED_VERSIONS.join(' and ')}.`);
  return chosen;
}

/**
 * Discovery answers the same for every email (it is unauthenticated, and must not reveal who has
 * a token): OnPremise authentication, where the user types the email and the token's code.
 */
export function discoverResponse(request: SoapRequest, discover: DiscoverRequest, urls: WindowsUrls): string {
  if (discover.authPolicies.length > 0 && !discover.authPolicies.includes('OnPremise')) {
    throw new SoapFault('Authentication', 'This server enrolls with a user name and code (OnPremise authentication), which this device did not offer.');
  }
  const version = negotiateVersion(discover.requestVersion);
  const body =
    `<DiscoverResponse xmlns="${NS.enrollment}"><DiscoverResult>` +
    `<AuthPolicy>OnPremise</AuthPolicy>` +
    `<EnrollmentVersion>${version}</EnrollmentVersion>` +
    `<EnrollmentPolicyServiceUrl>${urls.policy}</EnrollmentPolicyServiceUrl>` +
    `<EnrollmentServiceUrl>${urls.enrollment}</EnrollmentServiceUrl>` +
    `</DiscoverResult></DiscoverResponse>`;
  return soapEnvelope({ action: DISCOVER_RESPONSE_ACTION, relatesTo: request.messageId, body });
}
