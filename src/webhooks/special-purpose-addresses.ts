import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** One row of a special-purpose registry: a block webhooks may not reach. */
export interface SpecialPurposeBlock {
  block: string;
  name: string;
  rfc: string;
  /**
   * The block holds other addresses in disguise (IPv4-mapped): an address in it is refused when
   * the IPv4 address it carries is, and reaches that address otherwise.
   */
  judgedByIpv4?: true;
}

/**
 * The rows of IANA's "IPv4 Special-Purpose Address Registry"
 * (https://www.iana.org/assignments/iana-ipv4-special-registry/) and "IPv6 Special-Purpose
 * Address Registry" (https://www.iana.org/assignments/iana-ipv6-special-registry/, last updated
 * 2024-10-22) whose "Globally Reachable" is False, or blank for a terminated allocation,
 * transcribed by hand with the RFC of each, in the registries' order, on 2026-12-07 (the IPv4
 * registry's own date could not be read then: compare its rows with these when reviewing).
 *
 * Rows marked True are left out, and so stay refused when a row below contains them
 * (192.0.0.9/32 and 192.0.0.10/32 in 192.0.0.0/24; AMT, AS112, ORCHIDv2 and DETs in 2001::/23):
 * protocol anycast services and identifiers, never a customer's webhook receiver. Rows marked
 * N/A (6to4, Teredo) and the NAT64 well-known prefix are judged by the IPv4 address they carry
 * (`embeddedIpv4`), and so is IPv4-mapped (`judgedByIpv4`): it is how a dual-stack socket
 * reaches an IPv4 host. Four rows come from elsewhere and say so: multicast of both families
 * (IANA's multicast address space registries), the deprecated IPv4-compatible form ::/96
 * (RFC 4291), refused whole since no host should be reached by it, and deprecated site-local
 * fec0::/10 (RFC 3879), still routed inside some networks.
 */
export const SPECIAL_PURPOSE_IPV4: readonly SpecialPurposeBlock[] = [
  { block: '0.0.0.0/8', name: '"This network"', rfc: 'RFC 791, section 3.2' },
  { block: '0.0.0.0/32', name: '"This host on this network"', rfc: 'RFC 1122, section 3.2.1.3' },
  { block: '10.0.0.0/8', name: 'Private-Use', rfc: 'RFC 1918' },
  { block: '100.64.0.0/10', name: 'Shared Address Space', rfc: 'RFC 6598' },
  { block: '127.0.0.0/8', name: 'Loopback', rfc: 'RFC 1122, section 3.2.1.3' },
  { block: '169.254.0.0/16', name: 'Link Local', rfc: 'RFC 3927' },
  { block: '172.16.0.0/12', name: 'Private-Use', rfc: 'RFC 1918' },
  { block: '192.0.0.0/24', name: 'IETF Protocol Assignments', rfc: 'RFC 6890, section 2.1' },
  { block: '192.0.0.0/29', name: 'IPv4 Service Continuity Prefix', rfc: 'RFC 7335' },
  { block: '192.0.0.8/32', name: 'IPv4 dummy address', rfc: 'RFC 7600' },
  { block: '192.0.0.170/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880, RFC 7050 section 2.2' },
  { block: '192.0.0.171/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880, RFC 7050 section 2.2' },
  { block: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737' },
  { block: '192.88.99.0/24', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526' },
  { block: '192.88.99.2/32', name: '6a44-relay anycast address', rfc: 'RFC 6751' },
  { block: '192.168.0.0/16', name: 'Private-Use', rfc: 'RFC 1918' },
  { block: '198.18.0.0/15', name: 'Benchmarking', rfc: 'RFC 2544' },
  { block: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737' },
  { block: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737' },
  { block: '240.0.0.0/4', name: 'Reserved', rfc: 'RFC 1112, section 4' },
  { block: '255.255.255.255/32', name: 'Limited Broadcast', rfc: 'RFC 8190, RFC 919 section 7' },
  // IANA IPv4 Multicast Address Space Registry: not in the special-purpose registry.
  { block: '224.0.0.0/4', name: 'Multicast', rfc: 'RFC 5771' },
];

export const SPECIAL_PURPOSE_IPV6: readonly SpecialPurposeBlock[] = [
  { block: '::1/128', name: 'Loopback Address', rfc: 'RFC 4291' },
  { block: '::/128', name: 'Unspecified Address', rfc: 'RFC 4291' },
  { block: '::ffff:0:0/96', name: 'IPv4-mapped Address', rfc: 'RFC 4291', judgedByIpv4: true },
  { block: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translat.', rfc: 'RFC 8215' },
  { block: '100::/64', name: 'Discard-Only Address Block', rfc: 'RFC 6666' },
  { block: '2001::/23', name: 'IETF Protocol Assignments', rfc: 'RFC 2928' },
  { block: '2001:2::/48', name: 'Benchmarking', rfc: 'RFC 5180' },
  { block: '2001:10::/28', name: 'Deprecated (previously ORCHID)', rfc: 'RFC 4843' },
  { block: '2001:db8::/32', name: 'Documentation', rfc: 'RFC 3849' },
  { block: '3fff::/20', name: 'Documentation', rfc: 'RFC 9637' },
  { block: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602' },
  { block: 'fc00::/7', name: 'Unique-Local', rfc: 'RFC 4193, RFC 8190' },
  { block: 'fe80::/10', name: 'Link-Local Unicast', rfc: 'RFC 4291' },
  // IANA IPv6 Multicast Address Space Registry: not in the special-purpose registry.
  { block: 'ff00::/8', name: 'Multicast', rfc: 'RFC 4291' },
  // Not registry rows: deprecated by RFC 4291 section 2.5.5.1 (only ::/128 and ::1/128 are rows) ...
  { block: '::/96', name: 'IPv4-compatible (deprecated)', rfc: 'RFC 4291, section 2.5.5.1' },
  // ... and deprecated site-local addresses (IANA IPv6 Address Space registry).
  { block: 'fec0::/10', name: 'Site-Local (deprecated)', rfc: 'RFC 3879' },
];

/** IPv6 forms that carry an IPv4 address, which is judged by the IPv4 table. */
export const EMBEDDED_IPV4_FORMS = [
  { block: '::ffff:0:0/96', name: 'IPv4-mapped', rfc: 'RFC 4291' },
  { block: '::/96', name: 'IPv4-compatible', rfc: 'RFC 4291' },
  { block: '64:ff9b::/96', name: 'NAT64', rfc: 'RFC 6052' },
  { block: '64:ff9b:1::/48', name: 'local-use NAT64', rfc: 'RFC 8215' },
  { block: '2002::/16', name: '6to4', rfc: 'RFC 3056' },
  { block: '2001::/32', name: 'Teredo', rfc: 'RFC 4380' },
] as const satisfies readonly SpecialPurposeBlock[];

type Compiled = SpecialPurposeBlock & { range: [ipaddr.IPv4 | ipaddr.IPv6, number] };
const compile = (rows: readonly SpecialPurposeBlock[]): Compiled[] => rows.map((row) => ({ ...row, range: ipaddr.parseCIDR(row.block) }));
const IPV4 = compile(SPECIAL_PURPOSE_IPV4);
const IPV6 = compile(SPECIAL_PURPOSE_IPV6);
const FORMS = compile(EMBEDDED_IPV4_FORMS);

const ipv4Of = (bytes: number[]): ipaddr.IPv4 => new ipaddr.IPv4(bytes);

/**
 * The IPv4 addresses an IPv6 address carries, with the form that carries them: the last 32
 * bits of the mapped, compatible and NAT64 forms (RFC 6052 section 2.2 for a /96, and for the
 * /48 local-use prefix the bits after it, skipping bits 64 to 71), the 6to4 router (bits 16 to
 * 47) and Teredo's server (bits 32 to 63) and client (the last 32 bits, inverted).
 */
export function embeddedIpv4(address: ipaddr.IPv6): Array<{ form: SpecialPurposeBlock; ipv4: ipaddr.IPv4 }> {
  const b = address.toByteArray();
  const found: Array<{ form: SpecialPurposeBlock; ipv4: ipaddr.IPv4 }> = [];
  for (const form of FORMS) {
    if (!address.match(form.range)) continue;
    const carried =
      form.block === '2002::/16'
        ? [ipv4Of(b.slice(2, 6))]
        : form.block === '2001::/32'
          ? [ipv4Of(b.slice(4, 8)), ipv4Of(b.slice(12, 16).map((x) => x ^ 0xff))]
          : form.block === '64:ff9b:1::/48'
            ? [ipv4Of([b[6]!, b[7]!, b[9]!, b[10]!])]
            : [ipv4Of(b.slice(12, 16))];
    for (const ipv4 of carried) found.push({ form, ipv4 });
  }
  return found;
}

/**
 * The address, parsed. IPv6 goes through the WHATWG URL parser first, which writes it in hex
 * alone: ipaddr.js reads a dotted tail ("::127.0.0.1", "::8.8.8.8") as IPv4-mapped, which is
 * not what it is. A zone ("%eth0") names an interface, not an address, and is set aside.
 */
function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (isIP(address) === 4) return ipaddr.IPv4.parse(address);
  const hex = new URL(`http://[${address.replace(/%.*$/, '')}]/`).hostname.slice(1, -1);
  return ipaddr.IPv6.parse(hex);
}

/** The most specific row containing the address: it names the refusal (192.0.0.8/32, not 192.0.0.0/24). */
function rowOf(ip: ipaddr.IPv4 | ipaddr.IPv6): Compiled | undefined {
  const rows = ip.kind() === 'ipv4' ? IPV4 : IPV6;
  return rows.filter((row) => !row.judgedByIpv4 && ip.match(row.range)).sort((x, y) => y.range[1] - x.range[1])[0];
}

const inRow = (row: SpecialPurposeBlock) => `${row.block} (${row.name}, ${row.rfc}): not globally reachable`;

/**
 * Why an address may not receive webhooks, as what follows the address in a sentence ("is in
 * 127.0.0.0/8 (Loopback, ...): not globally reachable"); null when it is globally reachable.
 */
export function refusalOf(address: string): string | null {
  if (!isIP(address.replace(/%.*$/, ''))) return 'is not an IP address';
  const parsed = parse(address);
  const row = rowOf(parsed);
  if (parsed.kind() === 'ipv6' && !(row && row.range[1] > 96)) {
    // "::127.0.0.1" is refused for the loopback address it carries, before its own block is named.
    for (const { form, ipv4 } of embeddedIpv4(parsed as ipaddr.IPv6)) {
      const inner = rowOf(ipv4);
      if (inner) return `carries ${ipv4.toString()} (${form.name}, ${form.block}), in ${inRow(inner)}`;
    }
  }
  return row ? `is in ${inRow(row)}` : null;
}
