/**
 * A typed client for the Openroll API: openapi-fetch over the types openapi-typescript generates
 * from the server's OpenAPI document, so every path, parameter, body and response is checked by
 * the compiler and nothing is hand-written.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './openapi.ts';

export type { components, operations, paths } from './openapi.ts';

/** The failure envelope every error response carries (`{status: false, error: {code, message, data?}}`). */
export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

export type OpenrollClient = Client<paths>;

export interface OpenrollClientOptions extends Omit<ClientOptions, 'baseUrl' | 'headers'> {
  /** The server's root URL, e.g. `https://mdm.example.com` (without `/v1`). */
  baseUrl: string;
  /**
   * An API key (`ork_...`), sent as `Authorization: Bearer`. Leave it out in a page of the admin
   * console: the browser then sends the console's session cookie instead.
   */
  apiKey?: string;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
}

export function createOpenrollClient({ baseUrl, apiKey, headers, ...options }: OpenrollClientOptions): OpenrollClient {
  return createClient<paths>({
    ...options,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
  });
}
