import { randomUUID } from 'node:crypto';
import { SoapFault } from './soap-faults.ts';
import { child, elementChildren, escapeXml, isElement, parseXml, textOf, XmlFormatError, type XmlElement } from './xml.ts';

/** The namespaces of MS-MDE2, MS-XCEP and MS-WSTEP messages. */
export const NS = {
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  addressing: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wst: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  ac: 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
  enrollment: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment',
  policy: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy',
  wstep: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xsd: 'http://www.w3.org/2001/XMLSchema',
} as const;

export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

export interface SoapRequest {
  action: string;
  /** WS-Addressing MessageID, echoed as RelatesTo. */
  messageId: string | undefined;
  header: XmlElement | undefined;
  /** The first element inside Body. */
  payload: XmlElement;
}

/** A SOAP 1.2 envelope (1.1 accepted too) with one payload element; anything else is MessageFormat. */
export function parseSoapRequest(text: string): SoapRequest {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (error) {
    if (error instanceof XmlFormatError) throw new SoapFault('MessageFormat', `The message is not well-formed XML (${error.message}).`);
    throw error;
  }
  const soapNs = [NS.soap12, NS.soap11].find((ns) => isElement(root, ns, 'Envelope'));
  if (!soapNs) throw new SoapFault('MessageFormat', 'The message is not a SOAP envelope.');
  const header = child(root, soapNs, 'Header');
  const body = child(root, soapNs, 'Body');
  const payload = body ? elementChildren(body)[0] : undefined;
  if (!payload) throw new SoapFault('MessageFormat', 'The SOAP body is empty.');
  return {
    action: textOf(child(header, NS.addressing, 'Action')) ?? '',
    messageId: textOf(child(header, NS.addressing, 'MessageID')),
    header,
    payload,
  };
}

export interface UsernameToken {
  username: string;
  password: string;
}

/** wsse:Security/wsse:UsernameToken of an OnPremise request; missing means InvalidSecurity. */
export function usernameToken(request: SoapRequest): UsernameToken {
  const token = child(child(request.header, NS.wsse, 'Security'), NS.wsse, 'UsernameToken');
  const username = textOf(child(token, NS.wsse, 'Username'));
  const password = textOf(child(token, NS.wsse, 'Password'));
  if (!username || !password) throw new SoapFault('InvalidSecurity', 'The request carries no user name and password (wsse:UsernameToken).');
  return { username, password };
}

/** A SOAP 1.2 response envelope: Action, a fresh ActivityId, RelatesTo, then the body. */
export function soapEnvelope(args: { action: string; relatesTo: string | undefined; body: string; extraHeader?: string }): string {
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.addressing}" xmlns:u="${NS.wsu}">` +
    `<s:Header>` +
    `<a:Action s:mustUnderstand="1">${escapeXml(args.action)}</a:Action>` +
    `<ActivityId CorrelationId="${randomUUID()}" xmlns="http://schemas.microsoft.com/2004/09/ServiceModel/Diagnostics">${randomUUID()}</ActivityId>` +
    (args.relatesTo ? `<a:RelatesTo>${escapeXml(args.relatesTo)}</a:RelatesTo>` : '') +
    (args.extraHeader ?? '') +
    `</s:Header>` +
    `<s:Body xmlns:xsi="${NS.xsi}" xmlns:xsd="${NS.xsd}">${args.body}</s:Body>` +
    `</s:Envelope>`
  );
}
