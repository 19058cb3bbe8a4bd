import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../../lib/db-errors.ts';
import type { CounterStore } from '../../limits/counter-store.ts';
import type { DeviceAuthLimit } from '../../limits/device-auth-limit.ts';
import { clientAddress } from '../../limits/rate-limit-store.ts';
import type { PresentedCertificate } from './client-certificate.ts';
import { parseSoapRequest, SOAP_CONTENT_TYPE, usernameToken, type SoapRequest } from './soap.ts';
import { faultStatus, renderFault, SoapFault } from './soap-faults.ts';
import { SYNCML_CONTENT_TYPE } from './syncml.ts';
import type { WindowsEnrollmentService } from './windows-enrollment.service.ts';
import type { WindowsManagementService } from './windows-management.service.ts';
import { WINDOWS_PATHS } from '../../platforms/windows-urls.ts';
import { createWrongCodeLimit, type WrongCodeLimitOptions } from './wrong-code-limit.ts';

export interface WindowsRoutesOptions {
  enrollment: WindowsEnrollmentService;
  management: WindowsManagementService;
  /** Largest SOAP or SyncML message accepted; a real one is a few kilobytes. */
  bodyLimit: number;
  /** Wrong enrollment codes one user, and one client address, may send in the window (wrong-code-limit.ts). */
  wrongCodeLimit: WrongCodeLimitOptions;
  /** The shared counters (in the database on PostgreSQL): every process sees one count. */
  counters: CounterStore;
  /** The certificate a management session presents (own TLS, or a trusted proxy's header). */
  certificateOf: (request: FastifyRequest) => PresentedCertificate;
  /** Failed management sessions per client address, shared with Apple's device routes. */
  deviceAuthLimit: DeviceAuthLimit;
}

type Endpoint = 'enrollment' | 'management';

/** The user a message names; undefined when it names none (its handler answers that fault). */
function usernameOf(soap: SoapRequest): string | undefined {
  try {
    return usernameToken(soap).username;
  } catch {
    return undefined;
  }
}
const endpointOf = (request: FastifyRequest): Endpoint => (request.routeOptions.url?.startsWith('/ManagementServer') ? 'management' : 'enrollment');

function sendFault(reply: FastifyReply, fault: SoapFault, endpoint: Endpoint, soap?: SoapRequest, status?: number): FastifyReply {
  return reply
    .code(status ?? faultStatus(fault, endpoint))
    .header('content-type', SOAP_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .send(renderFault(fault, { relatesTo: soap?.messageId }));
}

/**
 * The Windows device endpoints (MS-MDE2 enrollment, OMA-DM management). They speak XML to
 * devices, so this plugin has its own body parser and its own error path: every refusal is a
 * SOAP fault, whatever went wrong (malformed XML, an oversized body, a database outage).
 */
export async function windowsRoutes(app: FastifyInstance, options: WindowsRoutesOptions): Promise<void> {
  const { enrollment, management } = options;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: options.bodyLimit }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const endpoint = endpointOf(request);
    if (error instanceof SoapFault) return sendFault(reply, error, endpoint);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendFault(reply, new SoapFault('MessageFormat', 'The message is too large.'), endpoint);
    if (error.code?.startsWith('FST_ERR_CTP_') || error.code === 'FST_ERR_BAD_URL') return sendFault(reply, new SoapFault('MessageFormat', 'The message cannot be read.'), endpoint);
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable');
      return sendFault(reply, new SoapFault('EnrollmentServer', 'The server is temporarily unavailable. Try again later.'), endpoint, undefined, 503);
    }
    request.log.error({ err: error }, 'unexpected error in a Windows device endpoint');
    return sendFault(reply, new SoapFault('InternalServiceFault', 'The server could not process the request. Try again later.'), endpoint);
  });

  // Only wrong codes count, per user and per address (wrong-code-limit.ts), so guessing codes
  // is slow while one user's typos, or a neighbour's behind the same NAT, hold back no one else.
  const wrongCodes = createWrongCodeLimit(options.counters, options.wrongCodeLimit);
  const guarded = async (request: FastifyRequest, soap: SoapRequest, handle: () => Promise<string>): Promise<string> => {
    const username = usernameOf(soap);
    await wrongCodes.check(request, username);
    try {
      return await handle();
    } catch (error) {
      if (error instanceof SoapFault && error.subcode === 'Authentication') {
        const spent = await wrongCodes.countWrong(request, username);
        if (spent) throw spent;
      }
      throw error;
    }
  };

  const soapRoute = (path: string, handle: (soap: SoapRequest) => Promise<string> | string, limited: boolean) =>
    app.post(path, { schema: { hide: true } }, async (request, reply) => {
      const soap = parseSoapRequest(typeof request.body === 'string' ? request.body : '');
      try {
        const answer = limited ? await guarded(request, soap, async () => handle(soap)) : await handle(soap);
        return reply.header('content-type', SOAP_CONTENT_TYPE).header('cache-control', 'no-store').send(answer);
      } catch (error) {
        if (error instanceof SoapFault) return sendFault(reply, error, 'enrollment', soap);
        throw error;
      }
    });

  // Windows first GETs discovery to see the server is there (MS-MDE2 section 4.1, on-premise sample).
  app.get(WINDOWS_PATHS.discovery, { schema: { hide: true } }, async (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').send(''));
  soapRoute(WINDOWS_PATHS.discovery, (soap) => enrollment.discover(soap), false);
  soapRoute(WINDOWS_PATHS.policy, (soap) => enrollment.getPolicies(soap), true);
  soapRoute(WINDOWS_PATHS.enrollment, (soap) => enrollment.enroll(soap), true);

  // A session refused as unauthenticated (401) counts against its address; past the limit the
  // address is answered 429 before its certificate is looked at. Accepted sessions never count.
  const { deviceAuthLimit } = options;
  app.post<{ Params: { organizationId: string } }>(WINDOWS_PATHS.management, { schema: { hide: true } }, async (request, reply) => {
    const address = clientAddress(request);
    const blocked = await deviceAuthLimit.check(address);
    if (blocked) {
      const fault = new SoapFault('Authentication', 'Too many refused sessions from this network. Try again later.');
      return sendFault(reply.header('retry-after', String(blocked.retryAfterSeconds)), fault, 'management', undefined, 429);
    }
    let answer: string;
    try {
      answer = await management.session(request.params.organizationId, typeof request.body === 'string' ? request.body : '', options.certificateOf(request));
    } catch (error) {
      if (error instanceof SoapFault && faultStatus(error, 'management') === 401) await deviceAuthLimit.fail(address);
      throw error;
    }
    return reply.header('content-type', SYNCML_CONTENT_TYPE).header('cache-control', 'no-store').send(answer);
  });
}
