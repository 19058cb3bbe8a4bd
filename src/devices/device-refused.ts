/**
 * Why the devices face refused what a device asked. It names no protocol: each adapter answers
 * it in its protocol's own form (Windows a SOAP fault, Apple an HTTP status), and `detail` is
 * the sentence its answer carries.
 */
export type RefusalReason =
  /** The token was redeemed meanwhile (by another device, or this one's concurrent request). */
  | 'token-used'
  /** The token can no longer enroll a device (revoked, expired, redeemed). */
  | 'token-closed'
  /** An enrolled device of the organization holds the DeviceID or UDID. */
  | 'identifier-held'
  /** The device the message names is not one that may say this (another's identity, checked out, never authenticated). */
  | 'unknown-device'
  /** A SCEP challenge that is wrong, spent or expired. */
  | 'challenge-unusable';

export class DeviceRefused extends Error {
  readonly reason: RefusalReason;
  readonly detail: string;
  constructor(reason: RefusalReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'DeviceRefused';
    this.reason = reason;
    this.detail = detail;
  }
}
