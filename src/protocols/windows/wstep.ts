import { CertificateRequestRejected, checkDeviceKey } from '../../pki/certificate-authority.ts';
import { CsrError, verifyCsr } from '../../pki/csr.ts';
import { NS, soapEnvelope, type SoapRequest } from './soap.ts';
import { SoapFault } from './soap-faults.ts';
import { isBase64, stripWhitespace } from '../../lib/base64.ts';
import { child, children, isElement, textOf } from './xml.ts';

export const RST_ACTION = `${NS.wstep}/RST/wstep`;
const RSTRC_ACTION = `${NS.wstep}/RSTRC/wstep`;
const ISSUE = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue';
const PKCS10 = `${NS.wstep}#PKCS10`;
const TOKEN_TYPE = 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken';
const PROVISION_DOC = 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc';
const BASE64_ENCODING = `${NS.wsse}#base64binary`;
/** A PKCS#10 request of a 4096-bit key is about 1.7 KB; anything far larger is not a CSR. */
const MAX_CSR_BYTES = 16 * 1024;

export interface SecurityTokenRequest {
  /** The CSR's public key (SubjectPublicKeyInfo, DER), its self-signature verified. */
  publicKeySpkiDer: Buffer;
  /** AdditionalContext items; repeated names (MAC, IMEI) joined with commas. */
  context: Record<string, string>;
  deviceIdentifier: string;
  hwDevId: string | undefined;
  deviceName: string | undefined;
  osVersion: string | undefined;
  enrollmentType: 'Full' | 'Device';
}

/** Printable, no control characters, bounded: values that end up in certificates, URLs and rows. */
const IDENTIFIER = /^[\x21-\x7e]{1,128}$/;

export async function parseRequestSecurityToken(request: SoapRequest): Promise<SecurityTokenRequest> {
  const rst = request.payload;
  if (!isElement(rst, NS.wst, 'RequestSecurityToken')) throw new SoapFault('MessageFormat', 'The message is not a RequestSecurityToken.');
  const requestType = textOf(child(rst, NS.wst, 'RequestType'));
  if (requestType !== ISSUE) throw new SoapFault('MessageFormat', 'Only new enrollments (RequestType Issue) are accepted; renew by enrolling again.');
  const tokenType = textOf(child(rst, NS.wst, 'TokenType'));
  if (tokenType !== undefined && tokenType.replace(/\s+/g, '') !== TOKEN_TYPE) throw new SoapFault('MessageFormat', 'Unknown TokenType.');

  const bst = child(rst, NS.wsse, 'BinarySecurityToken');
  if (!bst || bst.getAttribute('ValueType') !== PKCS10) throw new SoapFault('MessageFormat', 'The request carries no PKCS#10 certificate request.');
  const publicKeySpkiDer = verifiedCsrKey(textOf(bst) ?? '');

  // A Map, not an object: a ContextItem named __proto__ must stay a name like any other.
  const items = new Map<string, string>();
  for (const item of children(child(rst, NS.ac, 'AdditionalContext') ?? rst, NS.ac, 'ContextItem')) {
    const name = item.getAttribute('Name')?.trim();
    const value = textOf(child(item, NS.ac, 'Value'));
    if (!name || value === undefined || name.length > 64 || value.length > 512 || items.size >= 64) continue;
    items.set(name, items.has(name) ? `${items.get(name)},${value}` : value);
  }
  const context: Record<string, string> = Object.fromEntries(items);
  const deviceIdentifier = items.get('DeviceID');
  if (!deviceIdentifier || !IDENTIFIER.test(deviceIdentifier)) throw new SoapFault('MessageFormat', 'The request has no valid DeviceID in its AdditionalContext.');
  const hwDevId = items.get('HWDevID')?.trim();
  if (hwDevId !== undefined && !IDENTIFIER.test(hwDevId)) throw new SoapFault('MessageFormat', 'The request has an invalid HWDevID.');
  return {
    publicKeySpkiDer,
    context,
    deviceIdentifier,
    hwDevId: hwDevId || undefined,
    deviceName: items.get('DeviceName')?.slice(0, 255),
    osVersion: items.get('OSVersion')?.slice(0, 64),
    enrollmentType: items.get('EnrollmentType') === 'Device' ? 'Device' : 'Full',
  };
}

/**
 * Decodes the CSR and checks its self-signature (proof the device holds the key) over the
 * request's own bytes. Windows signs with SHA-1 (sha1WithRSASignature, OIW identifier), which is
 * accepted here; the certificate Openroll issues is signed with SHA-256.
 */
function verifiedCsrKey(base64: string): Buffer {
  const compact = stripWhitespace(base64);
  if (compact.length > (MAX_CSR_BYTES * 4) / 3 || !isBase64(compact)) {
    throw new SoapFault('CertificateRequest', 'The certificate request is not valid base64.');
  }
  let spki: Buffer;
  try {
    spki = verifyCsr(Buffer.from(compact, 'base64')).publicKeySpkiDer;
  } catch (error) {
    if (!(error instanceof CsrError)) throw error;
    if (error.problem === 'signature') throw new SoapFault('CertificateRequest', 'The certificate request signature does not verify.');
    if (error.problem === 'unsupported') throw new SoapFault('CertificateRequest', `The certificate request was refused: ${error.message}.`);
    throw new SoapFault('CertificateRequest', 'The certificate request is not a PKCS#10 request.');
  }
  // Checked before anything is written (the organization's CA is made on first use).
  try {
    checkDeviceKey(spki);
  } catch (error) {
    if (error instanceof CertificateRequestRejected) throw new SoapFault('CertificateRequest', `The certificate request was refused: ${error.message}.`);
    throw error;
  }
  return spki;
}

/** The RequestSecurityTokenResponseCollection carrying the provisioning document (MS-MDE2 4.3.2). */
export function requestSecurityTokenResponse(request: SoapRequest, provisioningDoc: string): string {
  const body =
    `<RequestSecurityTokenResponseCollection xmlns="${NS.wst}"><RequestSecurityTokenResponse>` +
    `<TokenType>${TOKEN_TYPE}</TokenType>` +
    `<DispositionMessage xmlns="${NS.wstep}"/>` +
    `<RequestedSecurityToken>` +
    `<BinarySecurityToken ValueType="${PROVISION_DOC}" EncodingType="${BASE64_ENCODING}" xmlns="${NS.wsse}">${Buffer.from(provisioningDoc, 'utf8').toString('base64')}</BinarySecurityToken>` +
    `</RequestedSecurityToken>` +
    `<RequestID xmlns="${NS.wstep}">0</RequestID>` +
    `</RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection>`;
  return soapEnvelope({ action: RSTRC_ACTION, relatesTo: request.messageId, body });
}
