/** The harness's bookkeeping of port calls (a PortObserver): where counter values went and what was posted live. */
import type { MsgDataFrame } from '../client/index.js';
import type { NumberingResult } from '../core/domain/numbering.js';
import { conversationOf, key } from './common.js';
import type { Invocation, PortObserver } from './faults.js';

export class PortLog {
  /** Which invocation took each counter value, by (conversation, msg_id). */
  readonly numbered = new Map<string, Invocation>();
  /** When each (conversation, msg_id) was numbered and stored, relative to the start. */
  readonly timeline = new Map<string, { numberedAt?: number; storedAt?: number; storedBy?: string }>();
  /** Invocations that lost a claim race. */
  readonly lostClaim = new WeakSet<Invocation>();
  /** Messages some connection got live (msg_data posted and delivered). */
  readonly postedLive = new Set<string>();
  /** Messages stored by an invocation whose own conditional put then failed (the SDK retried it after a lost response). */
  readonly storedButRefused = new Set<string>();
  readonly #startedAt: number;

  constructor(startedAt: number) {
    this.#startedAt = startedAt;
  }

  #at(): number {
    return Date.now() - this.#startedAt;
  }

  readonly observe: PortObserver = (call, outcome) => {
    if (!outcome.ok) {
      if (
        call.port === 'messages' &&
        call.method === 'put' &&
        (outcome.error as Error).name === 'MessageAlreadyStoredError'
      ) {
        const message = call.args[0] as { conversationId: string; msgId: number };
        const k = key(message.conversationId, message.msgId);
        if (call.invocation && this.numbered.get(k) === call.invocation) this.storedButRefused.add(k);
      }
      return;
    }
    if (call.port === 'gateway' && call.method === 'post' && outcome.value === 'delivered') {
      const frame = call.args[1] as MsgDataFrame;
      if (frame.type === 'msg_data') this.postedLive.add(key(conversationOf(frame), frame.msg_id));
    }
    if (!call.invocation) return;
    if (call.port === 'conversations' && call.method === 'nextMsgId') {
      const numbering = outcome.value as NumberingResult;
      if (numbering.kind !== 'numbered') return;
      const k = key((call.args[0] as { conversationId: string }).conversationId, numbering.counter.msgId);
      this.numbered.set(k, call.invocation);
      this.timeline.set(k, { numberedAt: this.#at() });
    } else if (call.port === 'messages' && call.method === 'put') {
      const message = call.args[0] as { conversationId: string; msgId: number };
      const k = key(message.conversationId, message.msgId);
      const by = `${call.invocation.route} #${call.invocation.id}${this.numbered.get(k) === call.invocation ? '' : ' (a resend)'}`;
      this.timeline.set(k, { ...this.timeline.get(k), storedAt: this.#at(), storedBy: by });
    } else if (
      call.port === 'sentMessages' &&
      call.method === 'claim' &&
      !(outcome.value as { claimed: boolean }).claimed
    ) {
      this.lostClaim.add(call.invocation);
    }
  };
}
