import { randomUUID } from 'node:crypto';
import { escapeXml } from './xml.ts';

/**
 * The MS-MDE2 fault subcodes (section 2.2.10) and the HRESULT Windows shows for each. Every
 * refusal of a device message is one of these, as a SOAP 1.2 fault; nothing answers a device
 * with a stack trace, an HTML page or the admin API's JSON envelope.
 */
export const FAULT_SUBCODES = {
  MessageFormat: '80180001',
  Authentication: '80180002',
  Authorization: '80180003',
  CertificateRequest: '80180004',
  EnrollmentServer: '80180005',
  InternalServiceFault: '80180006',
  InvalidSecurity: '80180007',
} as const;

export type FaultSubcode = keyof typeof FAULT_SUBCODES;

export class SoapFault extends Error {
  readonly subcode: FaultSubcode;
  /** Shown by Windows to the user: plain words, never a secret or an internal detail. */
  readonly reason: string;

  constructor(subcode: FaultSubcode, reason: string) {
    super(reason);
    this.name = 'SoapFault';
    this.subcode = subcode;
    this.reason = reason;
  }
}

/**
 * HTTP status of a fault. The enrollment endpoints answer 200, as Windows' enrollment client
 * reads the fault from the body (the way production Windows MDM servers answer); SOAP 1.2's own
 * choice, 500 for a Receiver fault, would read as a server crash to proxies and monitoring.
 * The management endpoint is polled by a scheduled client, so there the status says what went
 * wrong: 400 for a malformed message, 401/403 for a device it does not know or no longer manages.
 */
export function faultStatus(fault: SoapFault, endpoint: 'enrollment' | 'management'): number {
  if (endpoint === 'enrollment') return 200;
  switch (fault.subcode) {
    case 'MessageFormat':
      return 400;
    case 'Authentication':
    case 'InvalidSecurity':
      return 401;
    case 'Authorization':
      return 403;
    default:
      return 503;
  }
}

/** The fault envelope of MS-MDE2 section 2.2.10, answering the request's action and MessageID. */
export function renderFault(fault: SoapFault, args: { action?: string; relatesTo?: string }): string {
  const activity = randomUUID();
  return (
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">` +
    `<s:Header>` +
    `<a:Action s:mustUnderstand="1">${escapeXml(args.action ?? 'http://www.w3.org/2005/08/addressing/soap/fault')}</a:Action>` +
    `<ActivityId CorrelationId="${activity}" xmlns="http://schemas.microsoft.com/2004/09/ServiceModel/Diagnostics">${activity}</ActivityId>` +
    (args.relatesTo ? `<a:RelatesTo>${escapeXml(args.relatesTo)}</a:RelatesTo>` : '') +
    `</s:Header>` +
    `<s:Body><s:Fault>` +
    `<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>s:${fault.subcode}</s:Value></s:Subcode></s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${escapeXml(fault.reason)}</s:Text></s:Reason>` +
    `</s:Fault></s:Body></s:Envelope>`
  );
}
