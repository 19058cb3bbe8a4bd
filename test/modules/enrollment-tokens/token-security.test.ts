import { after, before, describe, test } from 'node:test';
import { PLATFORMS } from '../../../src/platforms/platforms.ts';
import { assertRouteSecurity, type RouteUnderTest } from '../../helpers/security.ts';
import { buildTestApp, type TestContext } from '../../helpers/test-app.ts';
import { tokensPath } from '../../helpers/tokens.ts';

let ctx: TestContext;
before(async () => {
  ctx = await buildTestApp();
});
after(() => ctx.close());

const SOME_ID = '0123456789abcdef01234567';

for (const platform of PLATFORMS) {
  const p = (action: string) => `mdm.${platform}.enrollmentToken.${action}`;
  const one = (org: string) => `${tokensPath(org, platform)}/${SOME_ID}`;
  const routes: Array<[string, RouteUnderTest]> = [
    ['list', { method: 'GET', path: (org) => tokensPath(org, platform), permission: p('list') }],
    ['create', { method: 'POST', path: (org) => tokensPath(org, platform), body: { mdmUserId: SOME_ID, sendEmail: false }, permission: p('create') }],
    ['bulk', { method: 'POST', path: (org) => `${tokensPath(org, platform)}/bulk`, body: { userEmails: ['x@example.com'], sendEmail: false }, permission: p('create') }],
    ['get', { method: 'GET', path: one, permission: p('get') }],
    ['update', { method: 'PUT', path: one, body: { displayName: 'x' }, permission: p('update') }],
    ['revoke', { method: 'DELETE', path: one, permission: p('remove') }],
    ['send-email', { method: 'POST', path: (org) => `${one(org)}/send-email`, permission: p('create') }],
    ['events', { method: 'GET', path: (org) => `${one(org)}/events`, permission: p('get') }],
  ];
  describe(`${platform} enrollment tokens: security`, () => {
    for (const [name, route] of routes) test(name, () => assertRouteSecurity(ctx, route));
  });
}
