import { randomBytes, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  attribute,
  certificatePublicKey,
  CmsError,
  degenerateSignedData,
  fromSchema,
  octets,
  OID,
  parseAsn1,
  parseContentInfo,
  signAttached,
  signedAttribute,
  toArrayBuffer,
  verifySignedData,
  type Signer,
} from '../../pki/cms.ts';
import { CsrError, verifyCsr } from '../../pki/csr.ts';
import { openEnvelope, sealEnvelope, type EnvelopeAlgorithms } from './scep-envelope.ts';

/** SCEP's authenticated attributes (RFC 8894 section 3.2.1.2), under the VeriSign arc. */
export const SCEP_OID = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
} as const;

export const MESSAGE_TYPE = { CertRep: '3', RenewalReq: '17', PKCSReq: '19', CertPoll: '20', GetCert: '21', GetCRL: '22' } as const;
export const PKI_STATUS = { SUCCESS: '0', FAILURE: '2', PENDING: '3' } as const;
export const FAIL_INFO = { badAlg: '0', badMessageCheck: '1', badRequest: '2', badTime: '3', badCertId: '4' } as const;
export type FailInfo = (typeof FAIL_INFO)[keyof typeof FAIL_INFO];

/** A pkiMessage whose signature verified; what is needed to answer it even when it fails. */
export interface ScepRequest {
  messageType: string;
  transactionId: string;
  senderNonce: Buffer;
  /** The requester's certificate (self-signed for PKCSReq); the CertRep is enveloped to its key. */
  signerCertificate: pkijs.Certificate;
  /** The pkcsPKIEnvelope, still sealed: the CA opens it. */
  envelope: Buffer;
}

function printable(values: asn1js.AsnType[] | undefined, what: string): string {
  const value = values?.[0];
  if (values?.length !== 1 || !(value instanceof asn1js.PrintableString)) throw new CmsError(`${what} must be one PrintableString`);
  return value.valueBlock.value;
}

/**
 * Parses and verifies the outer SignedData of a pkiMessage. A message whose signature does not
 * verify cannot be answered at all (its nonce and transaction are not authentic): CmsError.
 */
export async function readScepRequest(bytes: Uint8Array): Promise<ScepRequest> {
  const verified = await verifySignedData(parseContentInfo(bytes, 'pkiMessage', OID.signedData));
  const { signerInfo, signedData } = verified;
  const messageType = printable(signedAttribute(signerInfo, SCEP_OID.messageType), 'messageType');
  const transactionId = printable(signedAttribute(signerInfo, SCEP_OID.transactionID), 'transactionID');
  if (transactionId.length === 0 || transactionId.length > 128) throw new CmsError('transactionID must have 1 to 128 characters');
  const nonce = octets(signedAttribute(signerInfo, SCEP_OID.senderNonce)?.[0], 'senderNonce');
  if (nonce.length !== 16) throw new CmsError('senderNonce must be 16 bytes');
  const envelope = octets(signedData.encapContentInfo.eContent, 'the message data');
  return { messageType, transactionId, senderNonce: nonce, signerCertificate: verified.signerCertificate, envelope };
}

export interface CertificationRequest {
  /** The DER SubjectPublicKeyInfo of the key to certify. */
  publicKeySpkiDer: Buffer;
  commonName: string | null;
  challengePassword: string | null;
}

/** Opens the envelope with the CA key and reads the PKCS#10 request, whose own signature must verify. */
export function openCertificationRequest(request: ScepRequest, caKey: KeyObject): { csr: CertificationRequest; algorithms: EnvelopeAlgorithms } {
  const { content, algorithms } = openEnvelope(request.envelope, caKey);
  try {
    const { publicKeySpkiDer, commonName, challengePassword } = verifyCsr(content);
    return { csr: { publicKeySpkiDer, commonName, challengePassword }, algorithms };
  } catch (error) {
    if (error instanceof CsrError) throw new CmsError(`the PKCS#10 request is refused: ${error.message}`);
    throw error;
  }
}

function nonceAttribute(type: string, nonce: Uint8Array): pkijs.Attribute {
  return attribute(type, new asn1js.OctetString({ valueHex: toArrayBuffer(nonce) }));
}

function replyAttributes(request: ScepRequest, status: string): pkijs.Attribute[] {
  return [
    attribute(SCEP_OID.messageType, new asn1js.PrintableString({ value: MESSAGE_TYPE.CertRep })),
    attribute(SCEP_OID.pkiStatus, new asn1js.PrintableString({ value: status })),
    attribute(SCEP_OID.transactionID, new asn1js.PrintableString({ value: request.transactionId })),
    nonceAttribute(SCEP_OID.senderNonce, randomBytes(16)),
    nonceAttribute(SCEP_OID.recipientNonce, request.senderNonce),
  ];
}

/** A SUCCESS CertRep: the issued certificate, certs-only, enveloped to the requester's key, signed by the CA. */
export async function certRepSuccess(request: ScepRequest, ca: Signer, issuedDer: Uint8Array, algorithms: EnvelopeAlgorithms): Promise<Buffer> {
  const issued = fromSchema('issued certificate', () => new pkijs.Certificate({ schema: parseAsn1(issuedDer, 'issued certificate') }));
  const certsOnly = degenerateSignedData([issued]);
  const envelope = sealEnvelope(certsOnly, request.signerCertificate, certificatePublicKey(request.signerCertificate), algorithms);
  return signAttached(envelope, ca, replyAttributes(request, PKI_STATUS.SUCCESS));
}

/** A FAILURE CertRep: no content, and the reason in failInfo. */
export async function certRepFailure(request: ScepRequest, ca: Signer, failInfo: FailInfo): Promise<Buffer> {
  return signAttached(null, ca, [...replyAttributes(request, PKI_STATUS.FAILURE), attribute(SCEP_OID.failInfo, new asn1js.PrintableString({ value: failInfo }))]);
}
