/**
 * CachedStore's reads in flight: a read that began before an invalidation must not fill the cache with what it read.
 * A per-key generation covers invalidations of one key; an epoch covers the wider ones (a user, everything, a change
 * of the channel's state), which void every read in flight.
 */

/** Reads of one key in flight, and how many times the key was invalidated since the first of them began. */
interface ReadSlot {
  generation: number;
  readers: number;
}

/** What a read remembers from when it began, to decide at its end whether what it read may be cached. */
export interface ReadTicket {
  slot: ReadSlot;
  generation: number;
  epoch: number;
  /** When the read began (ms, the store's clock): an entry it fills is served for `ttl` from here. */
  startedAt: number;
}

/** The reads in flight of one CachedStore. */
export class ReadsInFlight {
  /** Only keys with a read in flight have a slot, so this map stays as small as the concurrency. */
  readonly #reads = new Map<string, ReadSlot>();
  /** Bumped by every invalidation wider than one key and by every channel state change. */
  #epoch = 0;

  begin(key: string, startedAt: number): ReadTicket {
    let slot = this.#reads.get(key);
    if (slot === undefined) this.#reads.set(key, (slot = { generation: 0, readers: 0 }));
    slot.readers += 1;
    return { slot, generation: slot.generation, epoch: this.#epoch, startedAt };
  }

  end(key: string, ticket: ReadTicket): void {
    ticket.slot.readers -= 1;
    if (ticket.slot.readers === 0 && this.#reads.get(key) === ticket.slot) this.#reads.delete(key);
  }

  /** `key` was invalidated: its reads in flight may no longer fill the cache. */
  voidKey(key: string): void {
    const slot = this.#reads.get(key);
    if (slot !== undefined) slot.generation += 1;
  }

  /** Something wider than one key was invalidated (or the channel's state changed): no read in flight may fill. */
  voidAll(): void {
    this.#epoch += 1;
  }

  /** Whether nothing that could make this read's result stale happened since it began. */
  isCurrent(ticket: ReadTicket): boolean {
    return ticket.epoch === this.#epoch && ticket.slot.generation === ticket.generation;
  }
}
