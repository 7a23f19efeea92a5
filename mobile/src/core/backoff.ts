// Reconnect delays: exponential from `baseMs`, capped at `maxMs`, with jitter so
// that a fleet of phones coming back after an outage does not reconnect in step.

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** Fraction of the delay randomised, 0..1. */
  jitter?: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 1000, maxMs = 30000, jitter = 0.2, random = Math.random } = options;
  const exact = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  const spread = exact * jitter;
  return Math.round(exact - spread + random() * 2 * spread);
}
