import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { newId } from '../../src/lib/ids.ts';
import { x509 } from '../../src/pki/x509.ts';
import { createWindowsDevicesRepo } from '../../src/devices/windows-devices.repo.ts';
import { createMdmUser, type TestOrg } from './factories.ts';
import type { TestContext } from './test-app.ts';
import { createToken } from './tokens.ts';

/** Plays a Windows PC against the MS-MDE2 endpoints, from the captured messages in test/fixtures/windows. */

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/windows/${name}`, import.meta.url), 'utf8');
}

export const FIXTURE_DEVICE_ID = '7BA748C8-703E-4DF2-A74A-92984117346A';
export const FIXTURE_HWDEVID = 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF';
const CSR_PLACEHOLDER = 'DER format PKCS#10 certificate request in Base64 encoding Insterted Here';

export interface Csr {
  base64: string;
  publicKey: KeyObject;
  /** The device's key, for a TLS client that presents the issued certificate. */
  privateKey: KeyObject;
}

/** A fresh PKCS#10 request, signed as Windows signs it (SHA-1) or with SHA-256. */
export async function makeCsr(options: { hash?: 'SHA-1' | 'SHA-256'; bits?: number; cn?: string } = {}): Promise<Csr> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: options.hash ?? 'SHA-1', modulusLength: options.bits ?? 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${options.cn ?? 'B1C43CD0-1624-5FBB-8E54-34CF17DFD3A1'}`, keys, signingAlgorithm: algorithm });
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    base64: Buffer.from(csr.rawData).toString('base64'),
    publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
  };
}

/** The same request with one bit of its signature flipped: its self-signature no longer verifies. */
export function tamper(csr: Csr): Csr {
  const der = Buffer.from(csr.base64, 'base64');
  der[der.length - 1]! ^= 0x01;
  return { ...csr, base64: der.toString('base64') };
}

export function discoverBody(email = 'user@contoso.com'): string {
  return fixture('discover-request.xml').replace('user@contoso.com', email);
}

export function getPoliciesBody(email: string, code: string): string {
  return fixture('get-policies-request.xml').replace('user@contoso.com', email).replace('mypassword', code);
}

export function requestSecurityTokenBody(args: { email: string; code: string; csr: Csr; deviceId?: string; hwDevId?: string }): string {
  return fixture('request-security-token.xml')
    .replace('user@contoso.com', args.email)
    .replace('mypassword', args.code)
    .replace(CSR_PLACEHOLDER, args.csr.base64)
    .replace(FIXTURE_DEVICE_ID, args.deviceId ?? FIXTURE_DEVICE_ID)
    .replace(FIXTURE_HWDEVID, args.hwDevId ?? FIXTURE_HWDEVID);
}

export function syncmlBody(name: 'syncml-first-session.xml' | 'syncml-unenroll.xml', deviceId = FIXTURE_DEVICE_ID): string {
  return fixture(name).replace(/\{unique device id\}/gi, deviceId);
}

export function parse(xml: string): Element {
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  if (!root) throw new Error(`not XML: ${xml.slice(0, 200)}`);
  return root;
}

/** Every element with this local name, in document order. */
export function all(root: Element, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS('*', localName));
}

export function text(root: Element, localName: string): string | undefined {
  return all(root, localName)[0]?.textContent?.trim();
}

export function faultSubcode(xml: string): string | undefined {
  const root = parse(xml);
  const subcode = all(root, 'Subcode')[0];
  return subcode ? text(subcode, 'Value') : undefined;
}

/** The provisioning document inside a RequestSecurityTokenResponseCollection. */
export function provisioningDocOf(xml: string): Element {
  return parse(Buffer.from(text(parse(xml), 'BinarySecurityToken') ?? '', 'base64').toString('utf8'));
}

/** `characteristic type=<path...>` lookups: the parm values under the first match of the path. */
export function characteristic(root: Element, ...path: string[]): Element | undefined {
  let candidates: Element[] = [root];
  for (const type of path) {
    candidates = candidates.flatMap((c) => Array.from(c.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).localName === 'characteristic' && (n as Element).getAttribute('type') === type));
  }
  return candidates[0];
}

export function parm(el: Element | undefined, name: string): string | undefined {
  if (!el) return undefined;
  const found = Array.from(el.childNodes).find((n): n is Element => n.nodeType === 1 && (n as Element).localName === 'parm' && (n as Element).getAttribute('name') === name);
  return found?.getAttribute('value') ?? undefined;
}

export function childTypes(el: Element | undefined): string[] {
  if (!el) return [];
  return Array.from(el.childNodes)
    .filter((n): n is Element => n.nodeType === 1 && (n as Element).localName === 'characteristic')
    .map((n) => n.getAttribute('type') ?? '');
}

/** A Windows device row written directly, so suites that need one stand on their own. */
export async function insertWindowsDevice(ctx: TestContext, org: { id: string }, options: { deviceIdentifier?: string; deviceName?: string } = {}) {
  const now = ctx.clock.now();
  const id = newId();
  return createWindowsDevicesRepo(ctx.container.database.db).insert(org.id, {
    id,
    tokenId: newId(),
    userEmail: `device-${id}@example.com`,
    enrollCodeHash: randomBytes(32),
    deviceIdentifier: options.deviceIdentifier ?? `DEVICE-${id}`,
    hwDevId: null,
    deviceName: options.deviceName ?? 'DESKTOP-TEST',
    osVersion: '10.0.19045.0',
    enrollmentContext: {},
    certificateSerial: randomBytes(16).toString('hex'),
    certificateThumbprint: randomBytes(20).toString('hex').toUpperCase(),
    devInfo: {},
    state: 'enrolled',
    enrolledAt: now,
    createdAt: now,
    updatedAt: now,
  });
}

/** The header a TLS-terminating proxy on loopback forwards the device certificate in. */
export const CERT_HEADER = 'x-ssl-client-cert';
/**
 * The configuration of a proxy on 127.0.0.1 (inject's default address) that forwards the client
 * certificate: the cheapest verified path, for suites whose sessions must be the device's own.
 */
export const BEHIND_PROXY = { mdmClientCertHeader: CERT_HEADER, trustProxy: ['127.0.0.1'] };
const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8' };
const SYNCML = { 'content-type': 'application/vnd.syncml.dm+xml' };

/** The device certificate (PEM) inside an enrollment answer's provisioning document. */
export function deviceCertificateOf(enrollmentResponse: string): string {
  const doc = provisioningDocOf(enrollmentResponse);
  const user = characteristic(all(doc, 'characteristic').find((c) => c.getAttribute('type') === 'My')!, 'User')!;
  const [thumbprint] = childTypes(user).filter((t) => t !== 'PrivateKeyContainer');
  return new X509Certificate(Buffer.from(parm(characteristic(user, thumbprint!), 'EncodedCertificate')!, 'base64')).toString();
}

export interface EnrolledWindowsDevice {
  deviceId: string;
  /** The certificate Openroll issued, PEM, and the key of its CSR. */
  pem: string;
  privateKey: KeyObject;
  tokenId: string;
  email: string;
  code: string;
}

/** A PC enrolled through the real endpoints with a fresh token of its own user. */
export async function enrollWindowsDevice(ctx: TestContext, tenant: TestOrg, deviceId: string): Promise<EnrolledWindowsDevice> {
  const user = await createMdmUser(ctx, tenant.org);
  const token = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  const code = token.body.data.enrollCode as string;
  const csr = await makeCsr();
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/EnrollmentServer/Enrollment.svc',
    headers: SOAP,
    payload: requestSecurityTokenBody({ email: user.email, code, csr, deviceId, hwDevId: deviceId.replace(/-/g, '').padEnd(64, '0') }),
  });
  assert.equal(faultSubcode(res.body), undefined, res.body);
  return { deviceId, pem: deviceCertificateOf(res.body), privateKey: csr.privateKey, tokenId: token.body.data.id, email: user.email, code };
}

/**
 * One OMA-DM message as the device sends it through the proxy: its certificate (when given) in
 * CERT_HEADER, URL-escaped as nginx's $ssl_client_escaped_cert, from `remoteAddress`.
 */
export function managementSession(ctx: TestContext, organizationId: string, args: { deviceId: string; pem?: string; body?: string; remoteAddress?: string }) {
  return ctx.app.inject({
    method: 'POST',
    url: `/ManagementServer/MDM.svc/${organizationId}`,
    payload: args.body ?? syncmlBody('syncml-first-session.xml', args.deviceId),
    headers: { ...SYNCML, ...(args.pem ? { [CERT_HEADER]: encodeURIComponent(args.pem) } : {}) },
    remoteAddress: args.remoteAddress ?? '127.0.0.1',
  });
}
