import type { HostResolver, ResolvedAddress } from '../../src/webhooks/address-policy.ts';

/**
 * A resolver the test controls: names resolve to what the table says and nothing else, so no
 * test asks a real DNS server, and a test can make a name point wherever it needs (a private
 * address, to prove it is refused before any connection). `lookups` records every question.
 */
export function createTableResolver(table: Record<string, string[]> = {}): HostResolver & { table: Record<string, string[]>; lookups: string[] } {
  const lookups: string[] = [];
  const entries: Record<string, string[]> = { localhost: ['127.0.0.1'], ...table };
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    lookups.push(hostname);
    const addresses = entries[hostname.toLowerCase()];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { table: entries, lookups });
}
