import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { refusalOf } from './special-purpose-addresses.ts';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Turns a host name into addresses: the system resolver in production, a table in tests, so
 * that no test ever asks a real DNS server nor depends on what it answers.
 */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

const RESOLVE_TIMEOUT_MS = 5_000;

export const systemResolver: HostResolver = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`resolving ${hostname} timed out`)), RESOLVE_TIMEOUT_MS);
  });
  try {
    const answers = await Promise.race([dnsLookup(hostname, { all: true, verbatim: true }), timeout]);
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Why an address may not receive webhooks ("is in 10.0.0.0/8 (Private-Use, RFC 1918): ..."), or
 * null when it may: every block of IANA's
 * special-purpose registries that is not globally reachable, and IPv6 forms carrying an IPv4
 * address that is not (special-purpose-addresses.ts, where the table and its sources are).
 */
export function specialUseRange(address: string): string | null {
  return refusalOf(address);
}

export class AddressRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

/** The host of a URL as a resolver or socket wants it: IPv6 literals lose their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** A literal IP host refused by the policy throws; a name passes (it is checked once resolved). */
export function checkLiteralHost(host: string, allowPrivate: boolean): void {
  if (!isIP(host) || allowPrivate) return;
  const refusal = specialUseRange(host);
  if (refusal) throw new AddressRefusedError(`${host} ${refusal}`);
}

/**
 * The addresses a webhook to `host` may connect to: the literal itself or every address the
 * name resolves to, each checked. One refused address refuses the host, so a name cannot mix a
 * public address with an internal one and hope for the internal one to be picked.
 */
export async function checkedAddresses(host: string, options: { resolve: HostResolver; allowPrivate: boolean }): Promise<ResolvedAddress[]> {
  const literal = isIP(host);
  if (literal) {
    checkLiteralHost(host, options.allowPrivate);
    return [{ address: host, family: literal === 6 ? 6 : 4 }];
  }
  const addresses = await options.resolve(host);
  if (addresses.length === 0) throw new Error(`${host} does not resolve to any address`);
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const refusal = specialUseRange(address);
      if (refusal) throw new AddressRefusedError(`${host} resolves to ${address}, which ${refusal}`);
    }
  }
  return addresses;
}
