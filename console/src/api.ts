/**
 * The console's link to the server: the typed client (generated from openapi.json) for the /v1
 * API, authenticated by the session cookie the browser sends by itself, plus the three session
 * calls of /console/api/session, which are the console's own and not part of the public API.
 */
import { createOpenrollClient, type ErrorEnvelope } from '@openroll/client';

export interface Session {
  organization: { id: string; slug: string; name: string };
  key: { id: string; name: string; prefix: string };
  permissions: string[];
  csrfToken: string;
  expiresAt: string;
  idleTimeoutSeconds: number;
}

/** An API failure as the forms use it: the code, the message, and each field's message by name. */
export interface Failure {
  status: number;
  code: number;
  message: string;
  fields: Record<string, string>;
}

let csrfToken = '';
let onSignedOut: () => void = () => {};

/** Called when the server says the session has ended (401), so the app can show the sign-in. */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export const api = createOpenrollClient({ baseUrl: location.origin, credentials: 'same-origin' });
api.use({
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) onSignedOut();
    return response;
  },
});

/** `body.winPolicyAssignments.0.priority` → `winPolicyAssignments.0.priority`: the form's field name. */
function fieldName(path: string): string {
  return path.replace(/^(body|query|params)\.?/, '').replace(/^\//, '').replace(/\//g, '.');
}

export function failureOf(error: ErrorEnvelope | undefined, response: Response): Failure {
  const fields: Record<string, string> = {};
  for (const e of (error?.error.data?.errors as Array<{ path: string; message: string }> | undefined) ?? []) {
    const name = fieldName(e.path);
    fields[name] = fields[name] ? `${fields[name]}; ${e.message}` : e.message;
  }
  return { status: response.status, code: error?.error.code ?? 0, message: error?.error.message ?? response.statusText, fields };
}

const SESSION = '/console/api/session';

async function sessionCall(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<{ session?: Session; failure?: Failure }> {
  const response = await fetch(SESSION, {
    method,
    credentials: 'same-origin',
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(method === 'DELETE' ? { 'x-csrf-token': csrfToken } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await response.json().catch(() => undefined)) as { data?: Session } & Partial<ErrorEnvelope>;
  if (!response.ok) return { failure: failureOf(json as ErrorEnvelope, response) };
  if (json.data && 'csrfToken' in json.data) csrfToken = json.data.csrfToken;
  return { session: json.data };
}

/** The current session, or undefined when the browser is not signed in. */
export async function loadSession(): Promise<Session | undefined> {
  return (await sessionCall('GET')).session;
}

/** Exchanges the key for a session cookie; the key is not kept anywhere in the page. */
export function signIn(key: string): Promise<{ session?: Session; failure?: Failure }> {
  return sessionCall('POST', { key });
}

export async function signOut(): Promise<void> {
  await sessionCall('DELETE');
  csrfToken = '';
}

/** The envelope's `data` of a typed call's success member (the error member has no `data`). */
type DataOf<R> = R extends { data: infer Envelope } ? (Envelope extends { data: infer D } ? D : never) : never;

/** A typed call's answer as the pages use it: the envelope's `data`, or a Failure. */
export async function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(call: Promise<R>): Promise<{ data?: DataOf<R>; failure?: Failure }> {
  try {
    const { data, error, response } = await call;
    if (data !== undefined) return { data: (data as { data: DataOf<R> }).data };
    return { failure: failureOf(error as ErrorEnvelope | undefined, response) };
  } catch {
    return { failure: { status: 0, code: 0, message: '', fields: {} } };
  }
}
