import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { DerError, elements, expectTag, oidText, readOnly, stringText, TAG, type DerValue } from './der.ts';

/**
 * PKCS#10 certification requests (RFC 2986), as devices send them. The self-signature is
 * checked with node:crypto over the CertificationRequestInfo's bytes exactly as received, never
 * a re-encoding: Windows 10 signs with the OIW identifier of sha1WithRSASignature and puts a `!`
 * and a NUL in a PrintableString, which a decode-and-re-encode library refuses or changes.
 */
export type CsrProblem = 'malformed' | 'unsupported' | 'signature';

export class CsrError extends Error {
  /** What is wrong: not a request at all, an algorithm or key type not accepted, or a signature that does not verify. */
  readonly problem: CsrProblem;
  constructor(problem: CsrProblem, message: string) {
    super(message);
    this.name = 'CsrError';
    this.problem = problem;
  }
}

/** The signature algorithms devices use: RSA PKCS#1 v1.5 (SHA-1 under both of its identifiers, SHA-2) and ECDSA with SHA-2. */
const SIGNATURE_ALGORITHMS: Record<string, { keyType: 'rsa' | 'ec'; hash: string }> = {
  '1.2.840.113549.1.1.5': { keyType: 'rsa', hash: 'sha1' },
  // OIW sha1WithRSASignature: what Windows 10's enrollment client signs its request with.
  '1.3.14.3.2.29': { keyType: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { keyType: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { keyType: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { keyType: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { keyType: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { keyType: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { keyType: 'ec', hash: 'sha512' },
};

const COMMON_NAME = '2.5.4.3';
const CHALLENGE_PASSWORD = '1.2.840.113549.1.9.7';

export interface VerifiedCsr {
  /** SubjectPublicKeyInfo, DER, as the request carried it. */
  publicKeySpkiDer: Buffer;
  publicKey: KeyObject;
  /** The subject's first CN as sent (it may hold characters its string type forbids), or null. */
  commonName: string | null;
  /** The challengePassword attribute (SCEP), or null. */
  challengePassword: string | null;
  /** The signature algorithm's object identifier. */
  signatureAlgorithm: string;
}

function firstCommonName(subject: DerValue): string | null {
  for (const rdn of elements(expectTag(subject, TAG.sequence, 'subject'))) {
    for (const attribute of elements(expectTag(rdn, TAG.set, 'relative distinguished name'))) {
      const [type, value] = elements(expectTag(attribute, TAG.sequence, 'name attribute'));
      if (type && value && oidText(type) === COMMON_NAME) return stringText(value);
    }
  }
  return null;
}

function challengePasswordOf(attributes: DerValue | undefined): string | null {
  if (!attributes) return null;
  for (const attribute of elements(attributes)) {
    const [type, values] = elements(expectTag(attribute, TAG.sequence, 'attribute'));
    if (!type || oidText(type) !== CHALLENGE_PASSWORD) continue;
    const [value] = elements(expectTag(values, TAG.set, 'attribute values'));
    return value ? stringText(value) : null;
  }
  return null;
}

function parseAlgorithm(value: DerValue | undefined): string {
  const [oid, params, extra] = elements(expectTag(value, TAG.sequence, 'signatureAlgorithm'));
  const algorithm = oidText(expectTag(oid, TAG.oid, 'signature algorithm'));
  // RSA carries NULL parameters (or, from some encoders, none); ECDSA none (RFC 5758 3.2).
  if (extra || (params && (params.tag !== TAG.null || params.contents.length !== 0))) throw new CsrError('malformed', `the signature algorithm ${algorithm} has unexpected parameters`);
  return algorithm;
}

/**
 * Parses a DER PKCS#10 request and verifies its self-signature (proof that the sender holds the
 * key). Throws CsrError for anything that is not a well-formed request signed by its own key
 * with a supported algorithm. Linear in the input; callers bound its size.
 */
export function verifyCsr(der: Buffer): VerifiedCsr {
  try {
    const [info, algorithmValue, signatureValue, extra] = elements(expectTag(readOnly(der, 'the request'), TAG.sequence, 'CertificationRequest'));
    if (extra) throw new CsrError('malformed', 'the request has extra fields');
    const [version, subject, spki, attributes, more] = elements(expectTag(info, TAG.sequence, 'CertificationRequestInfo'));
    if (more) throw new CsrError('malformed', 'CertificationRequestInfo has extra fields');
    const versionBytes = expectTag(version, TAG.integer, 'version').contents;
    if (versionBytes.length !== 1 || versionBytes[0] !== 0) throw new CsrError('malformed', 'only version 1 (0) requests exist');
    if (attributes && attributes.tag !== 0xa0) throw new CsrError('malformed', 'the attributes are not [0] IMPLICIT SET OF');

    const algorithm = parseAlgorithm(algorithmValue);
    const scheme = SIGNATURE_ALGORITHMS[algorithm];
    if (!scheme) throw new CsrError('unsupported', `the signature algorithm ${algorithm} is not supported`);
    const bits = expectTag(signatureValue, TAG.bitString, 'signature').contents;
    if (bits.length < 2 || bits[0] !== 0) throw new CsrError('malformed', 'the signature is not a whole number of bytes');

    const spkiDer = Buffer.from(expectTag(spki, TAG.sequence, 'subjectPKInfo').bytes);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
    } catch {
      throw new CsrError('unsupported', 'the public key cannot be read');
    }
    if (publicKey.asymmetricKeyType !== scheme.keyType) throw new CsrError('unsupported', `a ${publicKey.asymmetricKeyType ?? 'unknown'} key cannot make a ${algorithm} signature`);
    let valid: boolean;
    try {
      valid = verify(scheme.hash, info!.bytes, { key: publicKey, dsaEncoding: 'der' }, bits.subarray(1));
    } catch {
      valid = false;
    }
    if (!valid) throw new CsrError('signature', 'the signature does not verify');
    return {
      publicKeySpkiDer: spkiDer,
      publicKey,
      commonName: firstCommonName(subject!),
      challengePassword: challengePasswordOf(attributes),
      signatureAlgorithm: algorithm,
    };
  } catch (error) {
    if (error instanceof DerError) throw new CsrError('malformed', `the request is not DER: ${error.message}`);
    throw error;
  }
}
