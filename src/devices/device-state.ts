import type { Platform } from '../platforms/platforms.ts';

/**
 * The one vocabulary of a device's state, on both platforms:
 * - `authenticated`: an Apple identity checked in (Authenticate) and has not redeemed its token;
 * - `enrolled`: the token is redeemed by this device, which is managed;
 * - `unenrolled`: checked out, unenrolled by the device, retired by an admin, or superseded.
 * A Windows device has no `authenticated` step: its token is redeemed when its certificate is issued.
 *
 * Each platform's table and API spell the states in their own literals (Windows in lower case,
 * Apple in upper case: both APIs shipped so, and clients read them), and the partial unique
 * indexes of migrations 0017 and 0019 name the enrolled one. So the rule is written twice, as the token
 * state is (token-state.ts): the words here for code, the literals below for SQL and the API;
 * test/devices/device-state.test.ts holds the two equal, down to the indexes' predicates.
 */
export const DEVICE_STATES = ['authenticated', 'enrolled', 'unenrolled'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const STATE_LITERALS = {
  windows: { enrolled: 'enrolled', unenrolled: 'unenrolled' },
  apple: { authenticated: 'AUTHENTICATED', enrolled: 'ENROLLED', unenrolled: 'UNENROLLED' },
} as const satisfies Record<Platform, Partial<Record<DeviceState, string>>>;

type Literals = typeof STATE_LITERALS;
/** A platform's literal of a state, as its table stores it and its API shows it. */
export type StateLiteral<P extends Platform> = Literals[P][keyof Literals[P]];

/** The literals of a platform in the order of DEVICE_STATES: what its API schema allows. */
export const WINDOWS_STATE_LITERALS = [STATE_LITERALS.windows.enrolled, STATE_LITERALS.windows.unenrolled] as const;
export const APPLE_STATE_LITERALS = [STATE_LITERALS.apple.authenticated, STATE_LITERALS.apple.enrolled, STATE_LITERALS.apple.unenrolled] as const;

/** The state a stored literal of `platform` means; a literal the platform does not use is a bug, not a state. */
export function deviceState(platform: Platform, literal: string): DeviceState {
  const found = (Object.entries(STATE_LITERALS[platform]) as [DeviceState, string][]).find(([, value]) => value === literal);
  if (!found) throw new Error(`unknown ${platform} device state ${JSON.stringify(literal)}`);
  return found[0];
}

/** `platform`'s literal of `state`; asking Windows for `authenticated` is a bug. */
export function stateLiteral<P extends Platform>(platform: P, state: DeviceState): StateLiteral<P> {
  const literal = (STATE_LITERALS[platform] as Partial<Record<DeviceState, StateLiteral<P>>>)[state];
  if (literal === undefined) throw new Error(`${platform} devices have no ${state} state`);
  return literal;
}
