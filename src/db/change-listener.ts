import type { Listen } from './listen.ts';

/**
 * What a process-local cache needs before it may keep what it reads: to hear every change
 * (a trigger's NOTIFY on `channel`, whoever made the change), and to know whether a change came
 * in while it was reading. `forget` drops what a change makes stale: the notification's payload,
 * or everything (undefined) when the channel goes down, since changes may then be missed.
 */
export function createChangeListener(listen: Listen, channel: string, forget: (payload: string | undefined) => void) {
  let hearing = false;
  let heard = 0;
  const drop = (payload: string | undefined) => {
    heard++;
    forget(payload);
  };
  return {
    /** Whether the cache may be used: the channel is up. */
    hearing: (): boolean => hearing,
    /** Changes heard so far: a read that started before a change must not be kept after it. */
    heard: (): number => heard,
    /** A change this process made itself, dropped at once instead of when its notice comes. */
    drop,
    /** Listens on the channel; resolves to the function that stops listening. */
    watch: (): Promise<() => Promise<void>> =>
      listen(channel, drop, (listening) => {
        if (!listening) drop(undefined);
        hearing = listening;
      }),
  };
}
