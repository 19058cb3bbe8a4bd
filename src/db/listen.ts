import pg from 'pg';

/** Subscribes to NOTIFY on a channel; resolves to the function that stops listening. */
export type Listen = (channel: string, onNotify: (payload: string) => void, onState: (listening: boolean) => void) => Promise<() => Promise<void>>;

const RETRY_MS = 1_000;

/**
 * LISTEN on a dedicated connection that reconnects by itself. While it is down, `onState(false)`
 * tells the caller that notifications may be missed (a cache must then not be trusted).
 */
export async function listenWithClient(
  connection: pg.ClientConfig,
  channel: string,
  onNotify: (payload: string) => void,
  onState: (listening: boolean) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (stopped) return;
    const c = new pg.Client(connection);
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      client = undefined;
      onState(false);
      c.end().catch(() => {});
      if (!stopped) timer = setTimeout(() => void connect(), RETRY_MS).unref();
    };
    c.on('error', onLost);
    c.on('end', onLost);
    c.on('notification', (n) => {
      if (n.channel === channel) onNotify(n.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      if (stopped || lost) return void c.end().catch(() => {});
      client = c;
      onState(true);
    } catch {
      onLost();
    }
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    onState(false);
    await client?.end().catch(() => {});
  };
}
