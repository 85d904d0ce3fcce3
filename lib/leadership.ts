/**
 * The master lease: one master leads (rotates at the boundary), the others stand by (rotate a
 * little later, only if the leader did not). The lease is a key with a TTL that its holder renews;
 * when the holder dies, it lapses and a standby takes it.
 * @module
 */
import { RedisError } from "./errors.ts";
import type { Store } from "./store.ts";
import { hostname, pid, unrefTimer } from "./_runtime.ts";

/**
 * How long the lease lasts without renewal. Long is cheap: rotations are idempotent, so the lease
 * only decides who goes first, and standbys rotate every boundary the leader misses meanwhile.
 */
export const LEASE_TTL_MS = 9000;
/**
 * How often the holder renews it (two failed renewals are survived) and standbys try to take it.
 * Every renewal wakes an idle master twice (timer, reply): renewing every second cost it more CPU
 * than all its rotations.
 */
export const LEASE_RENEW_MS = 3000;

/** A unique ID for this master process: host, pid and a random part. */
export function masterId(): string {
  return `${hostname()}:${pid()}:${crypto.randomUUID().slice(0, 8)}`;
}

/** Options of {@link Leadership}. */
export interface LeadershipOptions {
  /** Called when this master becomes the leader or stops being it. */
  onChange?: (leader: boolean) => void;
  /** Called when renewing fails (Redis unreachable). */
  onError?: (message: string) => void;
  /** Clock in milliseconds. @default Date.now */
  now?: () => number;
}

/** Holds or waits for the master lease. */
export class Leadership {
  /** This master's ID, stored in the lease key while it leads. */
  readonly id: string;
  readonly #store: Store;
  readonly #options: LeadershipOptions;
  readonly #now: () => number;
  #leader = false;
  /** Until when the lease is ours for sure (ms), counted from before the renewal was sent. */
  #heldUntil = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;

  /** Create a leadership for `id`; {@link Leadership.start} starts competing for the lease. */
  constructor(store: Store, id: string, options: LeadershipOptions = {}) {
    this.#store = store;
    this.id = id;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether this master holds the lease now. */
  get isLeader(): boolean {
    this.#dropLapsedLease();
    return this.#leader;
  }

  #dropLapsedLease(): void {
    if (this.#leader && this.#now() >= this.#heldUntil) this.#set(false);
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#options.onChange?.(leader);
  }

  /**
   * Try to take the lease once, then keep renewing or trying.
   *
   * @throws {RedisError} when Redis refuses the first attempt (e.g. `NOPERM`: the ACL user may not
   * touch the lease key), which retrying would not fix
   */
  async start(): Promise<void> {
    const first = await this.#tick();
    if (first instanceof RedisError && first.refused) throw first;
    this.#timer = setInterval(() => void this.#tick(), LEASE_RENEW_MS);
    unrefTimer(this.#timer);
  }

  /** One attempt to take or renew the lease; returns the error, if any. */
  async #tick(): Promise<unknown> {
    if (this.#busy) return undefined;
    this.#busy = true;
    const sent = this.#now();
    try {
      const held = await this.#store.holdLease(this.id, LEASE_TTL_MS);
      if (held) this.#heldUntil = sent + LEASE_TTL_MS;
      this.#set(held);
    } catch (error) {
      this.#options.onError?.((error as Error).message);
      this.#dropLapsedLease();
      return error;
    } finally {
      this.#busy = false;
    }
    return undefined;
  }

  /** Stop competing and give the lease up, so that a standby takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#leader) {
      this.#set(false);
      try {
        await this.#store.releaseLease(this.id);
      } catch {
        // It lapses by itself.
      }
    }
  }
}
