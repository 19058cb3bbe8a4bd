import { NO_ORGANIZATION, type CounterStore } from './counter-store.ts';

export interface DeviceAuthLimitOptions {
  counters: CounterStore;
  /** Failed device authentications one address may make in a window before it is refused. */
  max: number;
  timeWindowMs: number;
}

/** Refused before any work: how long to wait (the protocols answer 429 with Retry-After). */
export interface DeviceAuthBlocked {
  retryAfterSeconds: number;
}

/**
 * Failed device authentications per client address, on every device protocol (Windows OMA-DM
 * sessions, Apple check-in and MDM channel), in the shared counters: one limit across server
 * processes. Only failures count, so a whole office of enrolled devices behind one address is
 * never limited by its own successes; an address past the limit is refused before the
 * certificate or signature work it would otherwise cost, until its window ends.
 */
export function createDeviceAuthLimit(options: DeviceAuthLimitOptions) {
  const { counters, max, timeWindowMs } = options;
  const bucket = (address: string) => `device-auth:${address}`;
  const blocked = (count: number, ttlMs: number): DeviceAuthBlocked | null => (count >= max ? { retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) } : null);

  return {
    /** `address`: the client's, IPv6 by its /64 (addressBucket's normalization). */
    async check(address: string): Promise<DeviceAuthBlocked | null> {
      const seen = await counters.peek(NO_ORGANIZATION, bucket(address));
      return blocked(seen.count, seen.ttlMs);
    },

    /** Counts one failure; says whether the address is now refused. */
    async fail(address: string): Promise<DeviceAuthBlocked | null> {
      const hit = await counters.hit(NO_ORGANIZATION, bucket(address), timeWindowMs);
      return blocked(hit.count, hit.ttlMs);
    },
  };
}

export type DeviceAuthLimit = ReturnType<typeof createDeviceAuthLimit>;
