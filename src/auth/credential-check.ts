import { createHmac, hkdfSync } from 'node:crypto';
import { digestsEqual } from '../lib/secrets.ts';

/**
 * A check the server can verify without the database, carried inside the credentials it mints
 * (API keys, console session cookies): the first 128 bits of an HMAC-SHA256 of the credential's
 * random part, keyed by a key derived (HKDF) from the server key (OPENROLL_SECRET_KEY, or the
 * key file of the embedded database). Every process on one database runs with that key, so each
 * of them tells a credential this server minted from a guess at the cost of one HMAC, before any
 * lookup: a guess cannot carry a valid check without the server key.
 *
 * It proves only that this server minted the credential, not that it still holds (a revoked
 * key, an ended session): those are answered by the lookup, and remembered (failure-memory.ts).
 */
export interface CredentialCheck {
  /** The check of `body` for credentials of this purpose: 22 base64url characters. */
  seal(purpose: CredentialPurpose, body: string): string;
  /** Whether `check` is the check of `body` (constant time). */
  verify(purpose: CredentialPurpose, body: string, check: string): boolean;
}

export type CredentialPurpose = 'api-key' | 'console-session';

/** Characters of a check: 16 bytes in base64url without padding. */
export const CHECK_LENGTH = 22;
const CHECK_BYTES = 16;

/** `serverKey` is read on first use, so commands that mint nothing need no server key. */
export function createCredentialCheck(serverKey: () => Buffer): CredentialCheck {
  let derived: Buffer | undefined;
  const key = (): Buffer => (derived ??= Buffer.from(hkdfSync('sha256', serverKey(), Buffer.alloc(0), 'openroll credential check v1', 32)));
  const mac = (purpose: CredentialPurpose, body: string): Buffer => createHmac('sha256', key()).update(`${purpose}\u0000${body}`).digest().subarray(0, CHECK_BYTES);
  return {
    seal: (purpose, body) => mac(purpose, body).toString('base64url'),
    verify(purpose, body, check) {
      if (check.length !== CHECK_LENGTH) return false;
      // The text is compared, not its decoded bytes: 22 characters carry 132 bits for 128, and
      // base64url decoding ignores the last character's low four, so a decoded compare would
      // take 16 spellings of each check (an altered key that still passes).
      return digestsEqual(Buffer.from(mac(purpose, body).toString('base64url')), Buffer.from(check));
    },
  };
}
