import { validationError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AppleLifecycle } from '../../devices/apple-lifecycle.service.ts';
import type { PushCertificateService } from '../../modules/apple-push-certificate/push-certificate.service.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { answering, field, readMessage } from './device-message.ts';
import { authenticateMessage, type MessageSigner } from './message-signature.ts';
import { dataField, optionalStringField, stringField, type PlistDict } from '../../lib/plist.ts';

/** What a check-in answers: 200 with an empty body, or 410 to decline (Apple's documented refusal). */
export type CheckInResult = { status: 200 | 410 };

/**
 * Check-in (Apple Device Management, "Check-in"): Authenticate records the device, TokenUpdate
 * redeems the token and keeps the push credentials, CheckOut unenrolls (the lifecycle is
 * src/devices/apple-lifecycle.service.ts; this file decodes the messages). Every message is
 * signed by the identity SCEP issued; a rejected message changes nothing.
 */
export function createCheckInService(deps: { devices: AppleLifecycle; clock: Clock; ca: CertificateAuthority; pushCertificates: PushCertificateService }) {
  const { devices } = deps;

  async function checkTopic(organizationId: string, message: PlistDict): Promise<string> {
    const topic = field(() => stringField(message, 'Topic'));
    const expected = await deps.pushCertificates.topicOf(organizationId);
    if (topic !== expected) throw validationError([{ path: 'body.Topic', message: 'is not the topic of the organization’s push certificate' }]);
    return topic;
  }

  async function authenticate(signer: MessageSigner, message: PlistDict): Promise<CheckInResult> {
    const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
    const topic = await checkTopic(signer.organizationId, message);
    const facts = field(() => ({
      serialNumber: optionalStringField(message, 'SerialNumber', { maxLength: 64 }),
      model: optionalStringField(message, 'Model', { maxLength: 128 }),
      modelName: optionalStringField(message, 'ModelName', { maxLength: 128 }),
      productName: optionalStringField(message, 'ProductName', { maxLength: 128 }),
      osVersion: optionalStringField(message, 'OSVersion', { maxLength: 64 }),
      buildVersion: optionalStringField(message, 'BuildVersion', { maxLength: 64 }),
      deviceName: optionalStringField(message, 'DeviceName', { maxLength: 256 }),
    }));
    await answering(devices.authenticate(signer, { udid, topic, facts }, deps.clock.now()));
    return { status: 200 };
  }

  async function tokenUpdate(signer: MessageSigner, message: PlistDict): Promise<CheckInResult> {
    const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
    // The user channel (UserID / UserLongName) is not served: its TokenUpdate changes nothing.
    if (message.UserID !== undefined || message.UserLongName !== undefined) return { status: 200 };
    await checkTopic(signer.organizationId, message);
    const push = field(() => ({
      pushToken: dataField(message, 'Token', { required: true, maxBytes: 256 })!,
      pushMagic: stringField(message, 'PushMagic', { maxLength: 256 }),
      unlockToken: dataField(message, 'UnlockToken', { required: false, maxBytes: 8192 }) ?? null,
    }));
    await answering(devices.tokenUpdate(signer, udid, push, deps.clock.now()));
    return { status: 200 };
  }

  async function checkOut(signer: MessageSigner, message: PlistDict): Promise<CheckInResult> {
    const udid = field(() => stringField(message, 'UDID', { maxLength: 128 }));
    await answering(devices.checkOut(signer, udid, deps.clock.now()));
    return { status: 200 };
  }

  return {
    async checkIn(organizationId: string, signature: string | string[] | undefined, body: Buffer): Promise<CheckInResult> {
      const signer = await authenticateMessage({ ca: deps.ca, clock: deps.clock, devices }, organizationId, signature, body);
      const message = readMessage(body);
      const type = field(() => stringField(message, 'MessageType', { maxLength: 64 }));
      switch (type) {
        case 'Authenticate':
          return authenticate(signer, message);
        case 'TokenUpdate':
          return tokenUpdate(signer, message);
        case 'CheckOut':
          return checkOut(signer, message);
        case 'UserAuthenticate':
          // Apple: answering 410 tells the device the server does not use the user channel.
          return { status: 410 };
        default:
          throw validationError([{ path: 'body.MessageType', message: `${type} is not supported (Authenticate, TokenUpdate, CheckOut)` }]);
      }
    },
  };
}

export type CheckInService = ReturnType<typeof createCheckInService>;
