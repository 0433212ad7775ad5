// Aim for this many entries a shard: small enough that copying one on change
// costs microseconds, large enough that the shard array stays small.
const ENTRIES_PER_SHARD = 32;

function shardCountFor(size: number): number {
  let count = 1;
  while (count * ENTRIES_PER_SHARD < size) count *= 2;
  return count;
}

// Samples at most ~12 characters spread over the key: cheap on the hot path,
// and host names tend to differ somewhere in their first labels.
function shardHash(key: string): number {
  const length = key.length;
  const step = length > 12 ? ((length / 12) | 0) + 1 : 1;
  let hash = length;
  for (let i = 0; i < length; i += step) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  return hash ^ (hash >>> 13);
}

/**
 * An immutable string-keyed map split into shards, so that a change copies the
 * few shards it touches instead of the whole map. Lookups cost one sampled
 * hash and one small Map probe.
 */
export class ShardedMap<V> {
  readonly size: number;
  private readonly shards: readonly Map<string, V>[];
  private readonly mask: number;

  private constructor(shards: readonly Map<string, V>[], size: number) {
    this.shards = shards;
    this.mask = shards.length - 1;
    this.size = size;
  }

  static empty<V>(): ShardedMap<V> {
    return new ShardedMap<V>([new Map()], 0);
  }

  static from<V>(entries: Iterable<readonly [string, V]>): ShardedMap<V> {
    const all = new Map<string, V>(entries);
    const shards: Map<string, V>[] = [];
    const count = shardCountFor(all.size);
    for (let i = 0; i < count; i++) shards.push(new Map());
    for (const [key, value] of all) (shards[shardHash(key) & (count - 1)] as Map<string, V>).set(key, value);
    return new ShardedMap(shards, all.size);
  }

  get(key: string): V | undefined {
    if (this.mask === 0) return (this.shards[0] as Map<string, V>).get(key);
    return (this.shards[shardHash(key) & this.mask] as Map<string, V>).get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const shard of this.shards) yield* shard;
  }

  *values(): IterableIterator<V> {
    for (const shard of this.shards) yield* shard.values();
  }

  /** A new map with `changes` applied: a value sets the key, undefined deletes it. */
  with(changes: ReadonlyMap<string, V | undefined>): ShardedMap<V> {
    if (changes.size === 0) return this;
    const copied = new Map<number, Map<string, V>>();
    const shards = this.shards.slice();
    let size = this.size;
    for (const [key, value] of changes) {
      const index = shardHash(key) & this.mask;
      let shard = copied.get(index);
      if (shard === undefined) {
        shard = new Map(shards[index]);
        copied.set(index, shard);
        shards[index] = shard;
      }
      const had = shard.has(key);
      if (value === undefined) {
        if (had) {
          shard.delete(key);
          size--;
        }
      } else {
        shard.set(key, value);
        if (!had) size++;
      }
    }
    const ideal = shardCountFor(size);
    // Re-shard only when far off the ideal, so that growth costs amortised O(1).
    if (ideal >= shards.length * 4 || ideal * 4 <= shards.length) {
      return ShardedMap.from(new ShardedMap(shards, size).entries());
    }
    return new ShardedMap(shards, size);
  }
}
