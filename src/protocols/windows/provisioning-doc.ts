import { randomBytes } from 'node:crypto';
import { escapeXml } from './xml.ts';

/** The DMClient provider id; PROVIDER-ID in w7 must match it. */
export const PROVIDER_ID = 'Openroll';

export interface ProvisioningInput {
  caThumbprint: string;
  caDer: Buffer;
  clientThumbprint: string;
  clientDer: Buffer;
  /** My/User for a user enrollment; My/System when the device enrolls on its own (EnrollmentType Device). */
  store: 'User' | 'System';
  subjectCommonName: string;
  managementUrl: string;
  deviceName: string | undefined;
}

const parm = (name: string, value?: string, datatype?: string) =>
  `<parm name="${name}"${value === undefined ? '' : ` value="${escapeXml(value)}"`}${datatype ? ` datatype="${datatype}"` : ''}/>`;

/**
 * The wap-provisioningdoc of MS-MDE2 section 2.2.9.1: the organization's CA into Root/System, the
 * device's certificate into My, the w7 APPLICATION (the OMA-DM account, ADDR = the management
 * URL) and the DMClient polling schedule.
 */
export function provisioningDocument(input: ProvisioningInput): string {
  // The w7 CSP requires both APPAUTH entries. Sessions are authenticated by the transport (the
  // device's certificate through the TLS proxy, and its DeviceID), so these secrets are one-time
  // random values that authorize nothing.
  const secret = () => randomBytes(18).toString('base64url');
  const search = `Subject=${encodeURIComponent(`CN=${input.subjectCommonName}`)}&Stores=My%5C${input.store}`;
  return (
    `<wap-provisioningdoc version="1.1">` +
    `<characteristic type="CertificateStore"><characteristic type="Root"><characteristic type="System">` +
    `<characteristic type="${input.caThumbprint}">${parm('EncodedCertificate', input.caDer.toString('base64'))}</characteristic>` +
    `</characteristic></characteristic></characteristic>` +
    `<characteristic type="CertificateStore"><characteristic type="My"><characteristic type="${input.store}">` +
    `<characteristic type="${input.clientThumbprint}">${parm('EncodedCertificate', input.clientDer.toString('base64'))}</characteristic>` +
    `<characteristic type="PrivateKeyContainer"/>` +
    `</characteristic></characteristic></characteristic>` +
    `<characteristic type="APPLICATION">` +
    parm('APPID', 'w7') +
    parm('PROVIDER-ID', PROVIDER_ID) +
    parm('NAME', 'Openroll') +
    parm('ADDR', input.managementUrl) +
    parm('CONNRETRYFREQ', '6') +
    parm('INITIALBACKOFFTIME', '30000') +
    parm('MAXBACKOFFTIME', '120000') +
    parm('BACKCOMPATRETRYDISABLED') +
    parm('DEFAULTENCODING', 'application/vnd.syncml.dm+xml') +
    parm('SSLCLIENTCERTSEARCHCRITERIA', search) +
    `<characteristic type="APPAUTH">${parm('AAUTHLEVEL', 'CLIENT')}${parm('AAUTHTYPE', 'DIGEST')}${parm('AAUTHSECRET', secret())}${parm('AAUTHDATA', randomBytes(16).toString('base64'))}</characteristic>` +
    `<characteristic type="APPAUTH">${parm('AAUTHLEVEL', 'APPSRV')}${parm('AAUTHTYPE', 'DIGEST')}${parm('AAUTHNAME', input.subjectCommonName)}${parm('AAUTHSECRET', secret())}${parm('AAUTHDATA', randomBytes(16).toString('base64'))}</characteristic>` +
    `</characteristic>` +
    `<characteristic type="DMClient"><characteristic type="Provider"><characteristic type="${PROVIDER_ID}">` +
    (input.deviceName ? parm('EntDeviceName', input.deviceName, 'string') : '') +
    `<characteristic type="Poll">` +
    parm('NumberOfFirstRetries', '8', 'integer') +
    parm('IntervalForFirstSetOfRetries', '15', 'integer') +
    parm('NumberOfSecondRetries', '5', 'integer') +
    parm('IntervalForSecondSetOfRetries', '3', 'integer') +
    parm('NumberOfRemainingScheduledRetries', '0', 'integer') +
    parm('IntervalForRemainingScheduledRetries', '1560', 'integer') +
    parm('PollOnLogin', 'true', 'boolean') +
    `</characteristic>` +
    `</characteristic></characteristic></characteristic>` +
    `</wap-provisioningdoc>`
  );
}
