import { readFileSync } from 'node:fs';

/**
 * The requests of a real Windows 10 21H1 PC, read out of Fleet's capture
 * (test/fixtures/windows/fleet-windows10-21h1-dump.txt, see the README there) without changing a
 * byte: each "Input Request" section's request line, headers and body. The body is what the
 * capture printed after its one-space separator (Fleet's re-indentation, CRLF line breaks).
 */
export interface CapturedRequest {
  method: string;
  /** Path and query as the PC sent them. */
  target: string;
  headers: Record<string, string>;
  body: string;
}

const DUMP = readFileSync(new URL('../fixtures/windows/fleet-windows10-21h1-dump.txt', import.meta.url), 'latin1');
const INPUT = '============================= Input Request =============================\n';
const HEADER = '----------- Input Header -----------\n ';
const BODY = '----------- Input Body -----------\n ';
const END = '\n=========================================================================';

export const FLEET_DEVICE_ID = 'B5B954E81FBCB94EB79BD08BE625F4EE';
export const FLEET_HWDEVID = '3B3ED6D0EA88CBFCF37D36F90F22FE61172348C0162FC3840D6703149870CE76';
/** The credentials the PC typed into Fleet's demo, which the tests replace with Openroll's. */
const FLEET_USERNAME = '<wsse:Username>demio</wsse:Username>';
const FLEET_PASSWORD = '">demo</wsse:Password>';

export function fleetCapturedRequests(): CapturedRequest[] {
  return DUMP.split(INPUT)
    .slice(1)
    .map((section) => {
      const headerStart = section.indexOf(HEADER) + HEADER.length;
      const headerEnd = section.indexOf('\r\n\r\n', headerStart);
      const [requestLine, ...headerLines] = section.slice(headerStart, headerEnd).split('\r\n');
      const [method, target] = requestLine!.split(' ');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const bodyStart = section.indexOf(BODY);
      const body = bodyStart === -1 ? '' : section.slice(bodyStart + BODY.length, section.indexOf(END, bodyStart));
      return { method: method!, target: target!, headers, body };
    });
}

/** The captured POSTs (or another method's requests) to a path (`/EnrollmentServer/Enrollment.svc`, ...), the first by default. */
export function fleetCapturedRequest(path: string, options: { index?: number; method?: string } = {}): CapturedRequest {
  const { index = 0, method = 'POST' } = options;
  const found = fleetCapturedRequests().filter((r) => r.method === method && r.target.split('?')[0] === path)[index];
  if (!found) throw new Error(`no captured ${method} to ${path} #${index}`);
  return found;
}

/** A captured SOAP request with the PC's demo credentials replaced by an Openroll user's email and code. */
export function withCredentials(body: string, email: string, code: string): string {
  if (!body.includes(FLEET_USERNAME) || !body.includes(FLEET_PASSWORD)) throw new Error('the captured request has no credentials to replace');
  return body.replace(FLEET_USERNAME, `<wsse:Username>${email}</wsse:Username>`).replace(FLEET_PASSWORD, `">${code}</wsse:Password>`);
}

/** The PKCS#10 request of the captured RequestSecurityToken, base64 exactly as sent. */
export function fleetCapturedCsrBase64(): string {
  const body = fleetCapturedRequest('/EnrollmentServer/Enrollment.svc').body;
  const start = body.indexOf('#base64binary">') + '#base64binary">'.length;
  return body.slice(start, body.indexOf('</wsse:BinarySecurityToken>', start));
}

/** The certificate Fleet's server issued for that request (its public key is the CSR's). */
export function fleetIssuedCertificateBase64(): string {
  const section = DUMP.slice(DUMP.indexOf('RSTRC/wstep'));
  const start = section.indexOf('DeviceEnrollmentProvisionDoc" EncodingType="');
  const open = section.indexOf('>', start) + 1;
  const doc = Buffer.from(section.slice(open, section.indexOf('</BinarySecurityToken>', open)).trim(), 'base64').toString('utf8');
  const my = doc.slice(doc.indexOf('<characteristic type="My">'));
  const value = my.indexOf('name="EncodedCertificate" value="') + 'name="EncodedCertificate" value="'.length;
  return my.slice(value, my.indexOf('"', value));
}
