import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  /** Paths to cycle through, one per request (a single path when all requests are alike). */
  paths: string[];
  headers: Record<string, string>;
  /** Bodies to cycle through with POST. */
  bodies?: string[];
  connections: number;
  seconds: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** A fixed-time run at a fixed number of connections; latencies in milliseconds. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    method: options.method ?? 'GET',
    headers: options.headers,
    requests: [
      {
        setupRequest: (request) => {
          const n = i++;
          request.path = options.paths[n % options.paths.length]!;
          if (options.bodies) request.body = options.bodies[n % options.bodies.length]!;
          return request;
        },
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
