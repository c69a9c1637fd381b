/** Recognises redelivered messages: a bounded set of (relation, msg_id) keys. */
import { isGroupMsgType, type MsgDataFrame } from './frames.js';

/**
 * The relation a message belongs to: for single chat the unordered pair {from_user_id, to_session_id} (msg_ids are
 * shared by both directions of a pair), for groups the group id. Needs no user id, unlike a conversation.
 */
export function relationKey(frame: Pick<MsgDataFrame, 'from_user_id' | 'to_session_id' | 'msg_type'>): string {
  if (isGroupMsgType(frame.msg_type)) return `g\u0000${frame.to_session_id}`;
  const [a, b] = [frame.from_user_id, frame.to_session_id].sort();
  return `s\u0000${a}\u0000${b}`;
}

/** Remembers the last `capacity` keys seen, forgetting the oldest first. */
export class SeenSet {
  readonly #keys = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Records `key`; returns true when it was new. */
  add(key: string): boolean {
    if (this.#keys.has(key)) return false;
    this.#keys.add(key);
    if (this.#keys.size > this.#capacity) {
      const oldest = this.#keys.values().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.#keys.size;
  }
}

/** Tells first deliveries of messages from redeliveries. */
export class MessageDeduper {
  readonly #seen: SeenSet;

  constructor(capacity = 10_000) {
    this.#seen = new SeenSet(capacity);
  }

  /** True the first time a (relation, msg_id) is seen. */
  isFirst(frame: Pick<MsgDataFrame, 'from_user_id' | 'to_session_id' | 'msg_type' | 'msg_id'>): boolean {
    return this.#seen.add(`${relationKey(frame)}\u0000${frame.msg_id}`);
  }
}
