import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { berShapeProblem } from './ber-shape.ts';

/**
 * CMS (RFC 5652) through PKI.js: the signed profile, the `Mdm-Signature` of check-in and MDM
 * messages, and the SignedData layers of SCEP. PKI.js does the ASN.1 and the signature math
 * over WebCrypto; this module only shapes what Openroll needs and turns every failure on
 * untrusted input into CmsError.
 */
export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  challengePassword: '1.2.840.113549.1.9.7',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

export class CmsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CmsError';
  }
}

type CryptoKey = webcrypto.CryptoKey;

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** One DER/BER value from bytes that must hold exactly it; CmsError otherwise. */
export function parseAsn1(bytes: Uint8Array, what: string): asn1js.AsnType {
  if (bytes.length === 0) throw new CmsError(`${what} is empty`);
  // Bounded first, in one linear pass: asn1js's own cost grows faster than the input.
  const problem = berShapeProblem(bytes);
  if (problem) throw new CmsError(`${what} is not DER: ${problem}`);
  const parsed = asn1js.fromBER(toArrayBuffer(bytes));
  if (parsed.offset === -1 || parsed.offset !== bytes.length) throw new CmsError(`${what} is not DER`);
  return parsed.result;
}

/** Runs a PKI.js schema parse; its exceptions (plain strings or Errors) become CmsError. */
export function fromSchema<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    // A refusal of our own (parseAsn1's bounds) keeps its reason.
    if (error instanceof CmsError) throw error;
    throw new CmsError(`${what} is not well-formed`);
  }
}

export function parseContentInfo(bytes: Uint8Array, what: string, contentType: string): pkijs.ContentInfo {
  const info = fromSchema(what, () => new pkijs.ContentInfo({ schema: parseAsn1(bytes, what) }));
  if (info.contentType !== contentType) throw new CmsError(`${what} has content type ${info.contentType}, expected ${contentType}`);
  return info;
}

export function parseCertificate(der: Uint8Array, what = 'certificate'): pkijs.Certificate {
  return fromSchema(what, () => new pkijs.Certificate({ schema: parseAsn1(der, what) }));
}

export function certificateDer(certificate: pkijs.Certificate): Buffer {
  return Buffer.from(certificate.toSchema().toBER());
}

/** The bytes of an OCTET STRING, primitive or constructed (BER splits long contents in pieces). */
export function octets(value: asn1js.AsnType | undefined, what: string): Buffer {
  if (!(value instanceof asn1js.OctetString)) throw new CmsError(`${what} is not an OCTET STRING`);
  if (!value.idBlock.isConstructed) return Buffer.from(value.valueBlock.valueHexView);
  return Buffer.concat(value.valueBlock.value.map((piece) => octets(piece, what)));
}

export interface VerifiedSignature {
  signedData: pkijs.SignedData;
  signerInfo: pkijs.SignerInfo;
  /** The certificate that made the signature, as it was carried in the message. */
  signerCertificate: pkijs.Certificate;
}

/**
 * Verifies a SignedData with one signer whose certificate the message carries. `detached` is the
 * signed content when the message does not hold it (`Mdm-Signature`). Trust in the signer is the
 * caller's decision: this proves only that the signer's key signed these bytes.
 */
export async function verifySignedData(signedDataInfo: pkijs.ContentInfo, detached?: Uint8Array): Promise<VerifiedSignature> {
  const signedData = fromSchema('SignedData', () => new pkijs.SignedData({ schema: signedDataInfo.content }));
  if (signedData.signerInfos.length !== 1) throw new CmsError('SignedData must have exactly one signer');
  const hasContent = signedData.encapContentInfo.eContent !== undefined;
  if (detached !== undefined && hasContent) throw new CmsError('the signature must be detached');
  if (detached === undefined && !hasContent) throw new CmsError('SignedData holds no content');
  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await signedData.verify({ signer: 0, checkChain: false, extendedMode: true, ...(detached ? { data: toArrayBuffer(detached) } : {}) });
  } catch (error) {
    const message = error && typeof error === 'object' && 'message' in error && typeof error.message === 'string' ? error.message : 'verification failed';
    throw new CmsError(`the signature does not verify (${message})`);
  }
  if (!result.signatureVerified || !result.signerCertificate) throw new CmsError('the signature does not verify');
  return { signedData, signerInfo: signedData.signerInfos[0]!, signerCertificate: result.signerCertificate };
}

/** Verifies a detached signature (DER ContentInfo) over `content`. */
export async function verifyDetached(signatureDer: Uint8Array, content: Uint8Array): Promise<VerifiedSignature> {
  return verifySignedData(parseContentInfo(signatureDer, 'signature', OID.signedData), content);
}

export interface Signer {
  certificate: pkijs.Certificate;
  key: CryptoKey;
}

export function attribute(type: string, value: asn1js.AsnType): pkijs.Attribute {
  return new pkijs.Attribute({ type, values: [value] });
}

/**
 * Attributes in DER's order for a SET OF: ascending by their encodings (X.690 11.6). The
 * signature covers the DER encoding of the signed attributes (RFC 5652 5.4); a verifier that
 * decodes and re-encodes them (Go's pkcs7, micromdm's SCEP client) checks the signature over
 * the sorted set, so the set must be sent, and signed, sorted.
 */
export function derSortedAttributes(attributes: pkijs.Attribute[]): pkijs.Attribute[] {
  return attributes
    .map((value) => ({ value, der: Buffer.from(value.toSchema().toBER()) }))
    .sort((a, b) => Buffer.compare(a.der, b.der))
    .map(({ value }) => value);
}

/**
 * SignedData (RFC 5652) holding `content` (or none, for a SCEP failure), signed with SHA-256
 * over the content type, the digest and `attributes` (a DER SET, sorted), and carrying the
 * signer's certificate.
 */
export async function signAttached(content: Uint8Array | null, signer: Signer, attributes: pkijs.Attribute[] = []): Promise<Buffer> {
  const digest = Buffer.from(await webcrypto.subtle.digest('SHA-256', content ?? new Uint8Array()));
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.data,
      ...(content ? { eContent: new asn1js.OctetString({ valueHex: toArrayBuffer(content) }) } : {}),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.certificate.issuer, serialNumber: signer.certificate.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: derSortedAttributes([
            attribute(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data })),
            attribute(OID.signingTime, new asn1js.UTCTime({ valueDate: new Date() })),
            attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: toArrayBuffer(digest) })),
            ...attributes,
          ]),
        }),
      }),
    ],
    certificates: [signer.certificate],
  });
  await signedData.sign(signer.key, 0, 'SHA-256');
  return contentInfoDer(OID.signedData, signedData.toSchema(true));
}

/** A certs-only ("degenerate") SignedData: how SCEP hands over an issued certificate. */
export function degenerateSignedData(certificates: pkijs.Certificate[]): Buffer {
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [],
    certificates,
  });
  return contentInfoDer(OID.signedData, signedData.toSchema(true));
}

export function contentInfoDer(contentType: string, content: asn1js.AsnType): Buffer {
  return Buffer.from(new pkijs.ContentInfo({ contentType, content }).toSchema().toBER());
}

/** The values of a signed attribute, or undefined when the signer did not include it. */
export function signedAttribute(signerInfo: pkijs.SignerInfo, type: string): asn1js.AsnType[] | undefined {
  return signerInfo.signedAttrs?.attributes.find((a) => a.type === type)?.values;
}

/** The public key of a certificate as node:crypto sees it. */
export function certificatePublicKey(certificate: pkijs.Certificate): KeyObject {
  const spki = Buffer.from(certificate.subjectPublicKeyInfo.toSchema().toBER());
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}
