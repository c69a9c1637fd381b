/**
 * A conversation's counter (core/store/conversations.ts) and what numbering a send leaves behind: the msg_id it took
 * and, for a send with a client_msg_id, what the head's ring and the idempotency record remember of it, so that a
 * resend is acked again instead of numbered twice.
 */
import type { SideCounts } from './message.js';

/** The numbers a message takes on its conversation head. */
export interface CounterResult extends SideCounts {
  readonly msgId: number;
  /** Whether both users' session rows are known to exist (single chat). */
  readonly sessionsCreated: boolean;
  /** The activity day (unix day) the members' session index entries were last written for; 0 = never. */
  readonly indexedDay: number;
}

/** What the head's ring remembers of a send numbered recently: enough to store it or to ack it again. */
export interface RingEntry extends SideCounts {
  readonly msgId: number;
  readonly createTime: number;
}

export type NumberingResult =
  | { readonly kind: 'numbered'; readonly counter: CounterResult }
  /** The same idempotency key took a msg_id moments ago (a racing duplicate or a prompt resend): none is taken. */
  | { readonly kind: 'seen'; readonly previous: RingEntry }
  /** The pair is blocked either way (docs/protocol.md "Block"): no msg_id taken, the send is refused. */
  | { readonly kind: 'blocked' };

/** Where a send with a client_msg_id was numbered: enough to store it, or to ack it again. */
export interface SentMessageRecord extends RingEntry {
  readonly contentHash: string;
}
