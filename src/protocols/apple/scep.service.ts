import type { AppleEnrollment } from '../../devices/apple-enrollment.service.ts';
import { DeviceRefused } from '../../devices/device-refused.ts';
import type { Clock } from '../../lib/clock.ts';
import { sha256 } from '../../lib/secrets.ts';
import { CertificateRequestRejected, type CertificateAuthority } from '../../pki/certificate-authority.ts';
import { caSignerFor, type CaSignerForCms } from '../../pki/ca-signer.ts';
import { CmsError } from '../../pki/cms.ts';
import { certRepFailure, certRepSuccess, FAIL_INFO, MESSAGE_TYPE, openCertificationRequest, readScepRequest, type FailInfo, type ScepRequest } from './scep-message.ts';

/**
 * RFC 8894 capabilities. SCEPStandard implies AES, POSTPKIOperation and SHA-256; they are
 * listed too for clients that predate it. No Renewal: a device re-enrolls with a new token.
 */
export const SCEP_CAPABILITIES = ['AES', 'POSTPKIOperation', 'SCEPStandard', 'SHA-256'];

function withoutControlCharacters(value: string): string {
  let kept = '';
  for (const character of value) {
    const code = character.codePointAt(0)!;
    if (code >= 0x20 && code !== 0x7f) kept += character;
  }
  return kept;
}

export class ScepUnanswerable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScepUnanswerable';
  }
}

export type ScepOutcome = { status: 'issued'; certRep: Buffer } | { status: 'failed'; certRep: Buffer; failInfo: FailInfo; reason: string };

/** The request failed for a reason the requester is told in failInfo; nothing of it is kept. */
class ScepFailure extends Error {
  readonly failInfo: FailInfo;
  constructor(failInfo: FailInfo, reason: string) {
    super(reason);
    this.failInfo = failInfo;
  }
}

export function createScepService(deps: { enrollment: AppleEnrollment; clock: Clock; ca: CertificateAuthority }) {
  async function organizationExists(organizationId: string): Promise<boolean> {
    return (await deps.enrollment.organization(organizationId)) !== undefined;
  }

  /** Spends the challenge and issues the identity (one transaction of the devices face): a failure leaves both as they were. */
  async function issue(organizationId: string, request: ScepRequest, ca: CaSignerForCms): Promise<Buffer> {
    let opened: Awaited<ReturnType<typeof openCertificationRequest>>;
    try {
      opened = openCertificationRequest(request, ca.privateKey);
    } catch (error) {
      if (error instanceof CmsError) throw new ScepFailure(FAIL_INFO.badMessageCheck, error.message);
      throw error;
    }
    const { csr, algorithms } = opened;
    if (!csr.challengePassword) throw new ScepFailure(FAIL_INFO.badRequest, 'the request has no challengePassword');
    const challengeHash = sha256(csr.challengePassword);
    const now = deps.clock.now();
    let issued: Awaited<ReturnType<AppleEnrollment['issueIdentity']>>;
    try {
      issued = await deps.enrollment.issueIdentity(
        organizationId,
        {
          challengeHash,
          publicKeySpkiDer: csr.publicKeySpkiDer,
          // A CN as sent may hold control characters its string type forbids; they stay out of the certificate.
          subjectCommonName: withoutControlCharacters(csr.commonName ?? '').slice(0, 64) || 'Openroll Apple device',
        },
        now,
      );
    } catch (error) {
      if (error instanceof DeviceRefused || error instanceof CertificateRequestRejected) throw new ScepFailure(FAIL_INFO.badRequest, error instanceof DeviceRefused ? error.detail : error.message);
      throw error;
    }
    return certRepSuccess(request, ca, issued.certificateDer, algorithms);
  }

  return {
    /** Whether SCEP answers for this organization at all: every operation of an unknown one is a 404. */
    organizationExists,

    capabilities: () => `${SCEP_CAPABILITIES.join('\n')}\n`,

    /** The CA certificate (DER) for GetCACert, or null for an unknown organization. */
    async caCertificate(organizationId: string): Promise<Buffer | null> {
      if (!(await organizationExists(organizationId))) return null;
      return (await deps.ca.getCa(organizationId)).certificateDer;
    },

    /**
     * PKIOperation. A message that cannot be authenticated throws ScepUnanswerable (there is no
     * authentic transaction to answer); every other refusal is a FAILURE CertRep.
     */
    async pkiOperation(organizationId: string, message: Buffer): Promise<ScepOutcome | null> {
      if (!(await organizationExists(organizationId))) return null;
      let request: ScepRequest;
      try {
        request = await readScepRequest(message);
      } catch (error) {
        if (error instanceof CmsError) throw new ScepUnanswerable(error.message);
        throw error;
      }
      const ca = await caSignerFor(deps.ca, organizationId);
      try {
        if (request.messageType !== MESSAGE_TYPE.PKCSReq) throw new ScepFailure(FAIL_INFO.badRequest, `messageType ${request.messageType} is not supported (only PKCSReq)`);
        return { status: 'issued', certRep: await issue(organizationId, request, ca) };
      } catch (error) {
        if (!(error instanceof ScepFailure)) throw error;
        return { status: 'failed', certRep: await certRepFailure(request, ca, error.failInfo), failInfo: error.failInfo, reason: error.message };
      }
    },
  };
}

export type ScepService = ReturnType<typeof createScepService>;
