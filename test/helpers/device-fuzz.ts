import fc from 'fast-check';
import { NASTY_CHARS, nastyString } from './hostile-values.ts';
import { discoverBody, fixture, getPoliciesBody, syncmlBody } from './windows-device.ts';

/** Generators of hostile device messages for test/fuzz.test.ts, from the captured fixtures. */

export interface DeviceEndpoint {
  route: string;
  /** The captured messages mutations start from. */
  seeds: string[];
  contentType: RegExp;
  /** The enrolled device the management endpoint's messages come from. */
  deviceId?: string;
}

export const DEVICE_ENDPOINTS: DeviceEndpoint[] = [
  { route: '/EnrollmentServer/Discovery.svc', seeds: [discoverBody()], contentType: /^application\/soap\+xml; charset=utf-8$/ },
  { route: '/EnrollmentServer/Policy.svc', seeds: [getPoliciesBody('user@contoso.com', 'ACDEFGHJ')], contentType: /^application\/soap\+xml; charset=utf-8$/ },
  { route: '/EnrollmentServer/Enrollment.svc', seeds: [fixture('request-security-token.xml')], contentType: /^application\/soap\+xml; charset=utf-8$/ },
  {
    route: '/ManagementServer/MDM.svc/:organizationId',
    seeds: [syncmlBody('syncml-first-session.xml', 'FUZZ-DEVICE'), syncmlBody('syncml-unenroll.xml', 'FUZZ-DEVICE')],
    contentType: /^application\/vnd\.syncml\.dm\+xml$/,
    deviceId: 'FUZZ-DEVICE',
  },
];

const TAG = /<[^>]+>/g;

function tags(xml: string): Array<{ index: number; text: string }> {
  return [...xml.matchAll(TAG)].map((m) => ({ index: m.index, text: m[0] }));
}

/** One mutation of a captured message: most keep it nearly valid so they reach the handlers. */
function mutate(seed: string): fc.Arbitrary<string> {
  const at = fc.nat({ max: seed.length });
  const tagAt = fc.nat({ max: Math.max(0, tags(seed).length - 1) }).map((i) => tags(seed)[i]!);
  const hostile = fc.oneof(nastyString, fc.constantFrom(...NASTY_CHARS), fc.constantFrom('&amp;', '&lt;', '&#0;', '&#x110000;', ']]>', '<![CDATA[x]]>', '<?pi x?>', '<!-- -->'));
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(seed) },
    { weight: 2, arbitrary: at.map((i) => seed.slice(0, i)) },
    { weight: 2, arbitrary: tagAt.map((t) => seed.slice(0, t.index) + seed.slice(t.index + t.text.length)) },
    { weight: 1, arbitrary: tagAt.map((t) => seed.slice(0, t.index) + t.text + t.text + seed.slice(t.index + t.text.length)) },
    // Hostile text between two tags: where values (emails, codes, DeviceIDs, CSRs) live.
    { weight: 5, arbitrary: fc.tuple(tagAt, hostile).map(([t, h]) => { const end = t.index + t.text.length; const next = seed.indexOf('<', end); return next < 0 ? seed : seed.slice(0, end) + h + seed.slice(next); }) },
    { weight: 2, arbitrary: fc.tuple(at, hostile).map(([i, h]) => seed.slice(0, i) + h + seed.slice(i)) },
    { weight: 1, arbitrary: fc.constantFrom('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>', '<!DOCTYPE x SYSTEM "file:///etc/passwd">').map((d) => d + seed.replace(/^<\?xml[^>]*\?>/, '')) },
    { weight: 1, arbitrary: fc.oneof(nastyString, fc.string({ unit: 'binary', maxLength: 200 })) },
  );
}

export function deviceEndpointCases(endpoint: DeviceEndpoint): fc.Arbitrary<{ body: string; headers: Record<string, string> }> {
  const contentType = fc.constantFrom('application/soap+xml; charset=utf-8', 'application/vnd.syncml.dm+xml', 'text/xml', 'application/json', 'application/soap+xml; charset=utf-16', '');
  return fc.tuple(fc.constantFrom(...endpoint.seeds).chain(mutate), contentType).map(([body, type]) => ({ body, headers: (type ? { 'content-type': type } : {}) as Record<string, string> }));
}

