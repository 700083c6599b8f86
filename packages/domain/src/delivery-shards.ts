/**
 * The sender reads the endpoint delivery topics with several consumer groups ("shards"), each
 * owning the topics that hash to it. A new endpoint's topic then rebalances only its shard's
 * small group: the other shards keep fetching (one group of 10,000 topics took seconds to
 * rebalance, and every sender stopped delivering meanwhile).
 *
 * The shard of a topic depends on the topic's name and the shard count only, so every sender
 * replica agrees on it without talking to the others, and a restart finds its offsets again.
 * The shard count is part of the group id: a different count means different groups (offsets
 * are carried over by the sender when it first joins them; see SenderService).
 */

/** Most shards a sender may be configured with (each is a consumer group with its own connections). */
export const MAX_DELIVERY_SHARDS = 256;

/** 32-bit FNV-1a of the UTF-8 bytes: stable across processes and versions (never Node's own hashing). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function checkShards(shards: number): void {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_DELIVERY_SHARDS) {
    throw new RangeError(`delivery shards must be a whole number from 1 to ${MAX_DELIVERY_SHARDS}, got ${shards}`);
  }
}

/** The shard (0 … shards-1) whose consumer group reads `topic`. */
export function deliveryShardOf(topic: string, shards: number): number {
  checkShards(shards);
  return fnv1a32(topic) % shards;
}

/**
 * The consumer group of one shard. One shard keeps the sender's base group id (what senders
 * before sharding used); more are `<base>.delivery.<shard>-of-<shards>`.
 */
export function deliveryShardGroupId(baseGroupId: string, shard: number, shards: number): string {
  checkShards(shards);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards) throw new RangeError(`shard must be from 0 to ${shards - 1}, got ${shard}`);
  return shards === 1 ? baseGroupId : `${baseGroupId}.delivery.${shard}-of-${shards}`;
}

/** The consumer group that reads (and commits) `topic` when the sender runs `shards` shards. */
export function deliveryGroupIdOf(baseGroupId: string, topic: string, shards: number): string {
  return deliveryShardGroupId(baseGroupId, deliveryShardOf(topic, shards), shards);
}

/**
 * The shard counts of a sender's delivery groups among `groupIds` (1 for the base group itself):
 * the layouts earlier senders committed offsets under.
 */
export function deliveryShardCountsIn(baseGroupId: string, groupIds: readonly string[]): number[] {
  const counts = new Set<number>();
  const prefix = `${baseGroupId}.delivery.`;
  for (const groupId of groupIds) {
    if (groupId === baseGroupId) counts.add(1);
    if (!groupId.startsWith(prefix)) continue;
    const match = /^(\d+)-of-(\d+)$/.exec(groupId.slice(prefix.length));
    if (!match) continue;
    const shards = Number(match[2]);
    if (shards >= 1 && shards <= MAX_DELIVERY_SHARDS && Number(match[1]) < shards) counts.add(shards);
  }
  return [...counts].sort((a, b) => a - b);
}
