/**
 * When to start the server again after it crashed: exponential backoff, then give up.
 *
 * A server that crashes at start would otherwise be restarted in a tight loop, flooding the log
 * and the user's screen. Each crash doubles the wait (1 s, 2 s, 4 s, … up to `maxDelayMs`);
 * more than `maxCrashes` crashes within `windowMs` means something is wrong that a restart will
 * not fix, so the policy answers `undefined` and the user is asked to look at the log. A server
 * that stayed up for `windowMs` is healthy again and starts from the shortest wait.
 */

export interface RestartPolicyOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  maxCrashes?: number;
  windowMs?: number;
  now?: () => number;
}

export class RestartPolicy {
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxCrashes: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private crashes: number[] = [];

  constructor(options: RestartPolicyOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxCrashes = options.maxCrashes ?? 5;
    this.windowMs = options.windowMs ?? 180_000;
    this.now = options.now ?? Date.now;
  }

  /** Record a crash; the delay before the next start, or undefined to stop trying. */
  onCrash(): number | undefined {
    const now = this.now();
    this.crashes = this.crashes.filter((t) => now - t < this.windowMs);
    this.crashes.push(now);
    if (this.crashes.length > this.maxCrashes) {
      return undefined;
    }
    const delay = this.initialDelayMs * 2 ** (this.crashes.length - 1);
    return Math.min(delay, this.maxDelayMs);
  }

  /** Crashes counted in the current window. */
  get recentCrashes(): number {
    const now = this.now();
    return this.crashes.filter((t) => now - t < this.windowMs).length;
  }

  /** A restart the user asked for starts afresh. */
  reset(): void {
    this.crashes = [];
  }
}
