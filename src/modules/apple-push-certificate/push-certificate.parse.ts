import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { validationError } from '../../errors.ts';
import { parseCertificate } from '../../pki/cms.ts';

/** The subject attribute Apple puts the push topic in (userid, RFC 4519). */
const UID_OID = '0.9.2342.19200300.100.1.1';
const TOPIC_PREFIX = 'com.apple.mgmt.';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export interface ParsedPushCertificate {
  topic: string;
  certificatePem: string;
  privateKey: KeyObject;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Checks an uploaded APNs certificate and key the way an admin can act on: each problem is a
 * 400 naming the field (not a PEM, an encrypted key, a key of another certificate, a subject
 * without a `com.apple.mgmt.` UID, an expired certificate).
 */
export function parsePushCertificate(input: { certificate: string; privateKey: string }, now: Date): ParsedPushCertificate {
  const pem = PEM_CERTIFICATE.exec(input.certificate)?.[0];
  if (!pem) throw validationError([{ path: 'body.certificate', message: 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)' }]);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    throw validationError([{ path: 'body.certificate', message: 'is not a valid X.509 certificate' }]);
  }
  const privateKey = readPrivateKey(input.privateKey);
  if (!certificate.checkPrivateKey(privateKey)) {
    throw validationError([{ path: 'body.privateKey', message: 'does not match the certificate (its public key is another one)' }]);
  }
  const topic = subjectUid(certificate);
  if (topic === undefined || !topic.startsWith(TOPIC_PREFIX) || topic.length === TOPIC_PREFIX.length) {
    throw validationError([{ path: 'body.certificate', message: `must have a subject UID starting with ${TOPIC_PREFIX} (an Apple MDM push certificate)` }]);
  }
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    throw validationError([{ path: 'body.certificate', message: `expired on ${notAfter.toISOString()}; renew it at Apple's Push Certificates Portal` }]);
  }
  return { topic, certificatePem: certificate.toString(), privateKey, serialNumber: certificate.serialNumber, notBefore, notAfter };
}

function readPrivateKey(pem: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw validationError([{ path: 'body.privateKey', message: 'must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)' }]);
  }
  if (/ENCRYPTED/.test(pem)) throw validationError([{ path: 'body.privateKey', message: 'is encrypted; upload it without a passphrase' }]);
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw validationError([{ path: 'body.privateKey', message: 'is not a valid PEM private key' }]);
  }
}

function subjectUid(certificate: X509Certificate): string | undefined {
  const parsed = parseCertificate(certificate.raw);
  const uid = parsed.subject.typesAndValues.find((tv) => tv.type === UID_OID)?.value.valueBlock.value;
  return typeof uid === 'string' ? uid : undefined;
}
