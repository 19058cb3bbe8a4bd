import type { FastifyRequest } from 'fastify';
import { NO_ORGANIZATION, type CounterStore } from '../../limits/counter-store.ts';
import { addressBucket } from '../../limits/rate-limit-store.ts';
import { sha256 } from '../../lib/secrets.ts';
import { SoapFault } from './soap-faults.ts';

/**
 * How many wrong enrollment codes are let through before the next attempt is refused outright.
 *
 * - Per user (the email or UPN the device sends): 10 in 10 minutes. A person mistypes a code a
 *   few times; 10 guesses per 10 minutes against a code of 8 characters from 25 letters
 *   (25^8, about 1.5e11) is out of reach even from many addresses at once, which is what the
 *   per-user count stops: it follows the user, not the address.
 * - Per client address: 1,000 in 10 minutes, 50 times the old per-address limit. A whole office
 *   behind one NAT enrolling on one morning (hundreds of people, each mistyping a few times)
 *   stays under it, and one user's typos never hold back another user there. It bounds what one
 *   address can cost (each wrong code is one indexed read) and how many users it can lock out.
 */
export const WRONG_CODES_PER_USER = 10;
export const WRONG_CODES_PER_ADDRESS = 1_000;
export const WRONG_CODE_WINDOW_MS = 10 * 60_000;

export interface WrongCodeLimitOptions {
  perUser: number;
  perAddress: number;
  timeWindowMs: number;
}

interface Budget {
  bucket: string;
  max: number;
  fault: () => SoapFault;
}

const userFault = () => new SoapFault('Authentication', 'Too many wrong codes for this user. Wait a few minutes and try again.');
const networkFault = () => new SoapFault('Authentication', 'Too many wrong codes from this network. Wait a few minutes and try again.');

/**
 * Wrong codes counted per user and per client address, in the shared counters (in the database
 * on PostgreSQL), so a user or an address refused by one process is refused by all. Only wrong
 * codes count; a user's right code goes through unless that user (or the address, past its
 * much larger budget) spent its budget of wrong ones.
 */
export function createWrongCodeLimit(counters: CounterStore, options: WrongCodeLimitOptions) {
  const budgets = (request: FastifyRequest, username: string | undefined): Budget[] => [
    // Hashed: the counters need no one's address book.
    ...(username !== undefined ? [{ bucket: `windows-code-user:${sha256(username.trim().toLowerCase()).toString('hex').slice(0, 32)}`, max: options.perUser, fault: userFault }] : []),
    { bucket: addressBucket('windows-code-address', request), max: options.perAddress, fault: networkFault },
  ];
  return {
    /** Before the code is looked up: refused when the user or the address has spent its budget. */
    async check(request: FastifyRequest, username: string | undefined): Promise<void> {
      for (const budget of budgets(request, username)) {
        if ((await counters.peek(NO_ORGANIZATION, budget.bucket)).count >= budget.max) throw budget.fault();
      }
    },
    /** After a wrong code: counted for the user and the address; the fault of one just spent. */
    async countWrong(request: FastifyRequest, username: string | undefined): Promise<SoapFault | undefined> {
      let spent: SoapFault | undefined;
      for (const budget of budgets(request, username)) {
        const hit = await counters.hit(NO_ORGANIZATION, budget.bucket, options.timeWindowMs);
        if (hit.count > budget.max) spent ??= budget.fault();
      }
      return spent;
    },
  };
}
