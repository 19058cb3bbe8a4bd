import type { KeyObject } from 'node:crypto';
import type { CertificateAuthority } from './certificate-authority.ts';
import { parseCertificate, type Signer } from './cms.ts';

export interface CaSignerForCms extends Signer {
  privateKey: KeyObject;
  certificateDer: Buffer;
}

/** The organization's CA in the shape PKI.js signs and decrypts with. */
export async function caSignerFor(ca: CertificateAuthority, organizationId: string): Promise<CaSignerForCms> {
  const signer = await ca.getCaSigner(organizationId);
  return { certificate: parseCertificate(signer.certificateDer, 'CA certificate'), key: signer.cryptoKey, privateKey: signer.privateKey, certificateDer: signer.certificateDer };
}
