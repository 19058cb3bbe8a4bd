/**
 * The HTTP API as the command line uses it: node's fetch, the bearer key, and patience. A 429
 * waits for its Retry-After; a network failure or a 5xx is retried with backoff (the requests
 * that create carry an Idempotency-Key, so a retry never creates twice); other answers are
 * returned as they are, for the caller to report.
 */
export interface ApiAnswer {
  status: number;
  /** The parsed JSON body; undefined when the body was not JSON. */
  body: unknown;
}

export interface ApiError {
  code: number;
  message: string;
  details: string[];
}

export class ApiUnreachableError extends Error {}

export interface ApiClientOptions {
  baseUrl: string;
  key: string;
  /** Attempts for a network failure or a 5xx before giving up. */
  attempts?: number;
  retryBaseMs?: number;
}

/** fetch's own message is "fetch failed"; the cause says what happened (ECONNREFUSED, ...). */
function reason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error of an envelope answer, as one line for a person: `code message: path problem; ...`. */
export function apiErrorOf(answer: ApiAnswer): ApiError {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown; data?: { errors?: Array<{ path: string; message: string }> } } } | undefined)?.error;
  if (!error || typeof error.code !== 'number') return { code: answer.status, message: `HTTP ${answer.status}`, details: [] };
  return { code: error.code, message: String(error.message), details: (error.data?.errors ?? []).map((e) => `${e.path} ${e.message}`) };
}

export function describeApiError(error: ApiError): string {
  return `${error.code} ${error.message}${error.details.length ? `: ${error.details.join('; ')}` : ''}`;
}

export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const attempts = options.attempts ?? 5;
  const retryBaseMs = options.retryBaseMs ?? 500;

  async function once(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<ApiAnswer & { retryAfter: string | null }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.key}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after') };
  }

  return {
    async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
      let failures = 0;
      let throttled = 0;
      for (;;) {
        let answer: ApiAnswer & { retryAfter: string | null };
        try {
          answer = await once(method, path, body, headers);
        } catch (error) {
          if (++failures >= attempts) throw new ApiUnreachableError(`cannot reach ${base}: ${reason(error)}`);
          await sleep(retryBaseMs * 2 ** (failures - 1));
          continue;
        }
        if (answer.status === 429 && ++throttled < 30) {
          const seconds = Number(answer.retryAfter);
          await sleep(Math.min(60, Number.isFinite(seconds) && seconds > 0 ? seconds : 1) * 1000);
          continue;
        }
        if (answer.status >= 500 && ++failures < attempts) {
          await sleep(retryBaseMs * 2 ** (failures - 1));
          continue;
        }
        return { status: answer.status, body: answer.body };
      }
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
