/**
 * A fake read side for catch-up tests: one user's conversations in memory, answering `recent_sessions` and `msg_list`
 * with the server's semantics (tests/integration/read-side.test.ts): sessions with updated_time > latest_update_time,
 * newest first, `pageSize` a page with an opaque next_page_token; msg_list newest first, msg_id ≤ msg_id_begin
 * (0 = newest), at most msg_cnt, gaps in msg_ids skipped over as a DynamoDB Query with Limit does.
 */
import type { FakeConnection, Frame } from './fake-server.js';

export interface StoredMessage {
  readonly msg_id: number;
  readonly from_user_id: string;
  readonly create_time: number;
  readonly msg_type: number;
  readonly msg_data: string;
  readonly client_msg_id?: string;
  readonly recalled?: true;
  readonly edited_at?: number;
}

interface Conversation {
  readonly sessionId: string;
  readonly sessionType: number;
  /** Ascending by msg_id. */
  readonly messages: StoredMessage[];
  updatedTime: number;
  /** Next counter value (a failed send takes one and stores nothing). */
  next: number;
}

export class FakeHistory {
  readonly conversations = new Map<string, Conversation>();
  /** Request frames answered, in order. */
  readonly requests: Frame[] = [];
  /** Sessions a msg_list is refused for (error code). */
  readonly refuse = new Map<string, string>();
  /** This user's read mark per conversation key (`msg_read_ack`): unread_cnt counts others' messages above it. */
  readonly readMarks = new Map<string, number>();
  /** When set, a request waits for this before it is answered. */
  gate: ((frame: Frame) => Promise<void> | undefined) | undefined;
  /**
   * The server after docs/protocol.md "Limits": `msg_list` answers `has_more`, and a `msg_list` or `msg_by_ids`
   * reply holds at most this many messages (as if the next one would take it past 128 KB). Undefined: a server
   * before those fields, whose pages were always full.
   */
  maxPerReply: number | undefined;
  // The server clock of a real deployment: create_time is "now" (holes are judged by it, held.ts).
  #clock = Math.floor(Date.now() / 1000);

  constructor(
    readonly userId: string,
    readonly pageSize = 100,
  ) {}

  /** A one-unit step of the server clock (seconds), for updated_time and create_time. */
  tick(seconds = 1): number {
    this.#clock += seconds;
    return this.#clock;
  }

  get now(): number {
    return this.#clock;
  }

  #conversation(sessionId: string, sessionType: number): Conversation {
    const key = `${sessionType}:${sessionId}`;
    let conversation = this.conversations.get(key);
    if (!conversation) {
      conversation = { sessionId, sessionType, messages: [], updatedTime: 0, next: 1 };
      this.conversations.set(key, conversation);
    }
    return conversation;
  }

  /** Replaces a stored message's state as a recall or an edit on the server would. */
  change(sessionId: string, msgId: number, change: { recalled: true } | { edited_at: number; msg_data: string }): void {
    const messages = this.#conversation(sessionId, 1).messages;
    const index = messages.findIndex((m) => m.msg_id === msgId);
    const stored = messages[index]!;
    messages[index] = 'recalled' in change ? { ...stored, msg_data: '', recalled: true } : { ...stored, ...change };
  }

  /** Stores `count` messages from `from` in the session (single chat unless sessionType 2); returns them. */
  add(
    sessionId: string,
    count: number,
    options: { from?: string; sessionType?: number; text?: (i: number) => string } = {},
  ): StoredMessage[] {
    const sessionType = options.sessionType ?? 1;
    const conversation = this.#conversation(sessionId, sessionType);
    const added: StoredMessage[] = [];
    for (let i = 0; i < count; i++) {
      const time = this.tick();
      const message: StoredMessage = {
        msg_id: conversation.next++,
        from_user_id: options.from ?? (sessionType === 2 ? 'someone' : sessionId),
        create_time: time,
        msg_type: sessionType === 2 ? 17 : 1,
        msg_data: options.text?.(i) ?? `${sessionId} #${conversation.next - 1}`,
      };
      conversation.messages.push(message);
      conversation.updatedTime = time;
      added.push(message);
    }
    return added;
  }

  /**
   * Stores this user's msg_data frame as the server would (once per client_msg_id) and returns its ack; `to` is the
   * peer or the group (msg_type 17/18).
   */
  storeSent(frame: Frame): Frame {
    const to = String(frame['to_session_id']);
    const msgType = Number(frame['msg_type']);
    const sessionType = msgType >= 17 ? 2 : 1;
    const conversation = this.#conversation(to, sessionType);
    const clientMsgId = frame['client_msg_id'] as string | undefined;
    let message = conversation.messages.find((m) => clientMsgId !== undefined && m.client_msg_id === clientMsgId);
    if (!message) {
      const time = this.tick();
      message = {
        msg_id: conversation.next++,
        from_user_id: this.userId,
        create_time: time,
        msg_type: msgType,
        msg_data: String(frame['msg_data']),
        ...(clientMsgId === undefined ? {} : { client_msg_id: clientMsgId }),
      };
      conversation.messages.push(message);
      conversation.updatedTime = time;
      // The sender's own send moves its read mark.
      this.readMarks.set(`${sessionType}:${to}`, message.msg_id);
    }
    return {
      type: 'msg_data_ack',
      seq: frame['seq'],
      user_id: this.userId,
      session_id: to,
      msg_id: message.msg_id,
      session_type: sessionType,
      create_time: message.create_time,
      ...(clientMsgId === undefined ? {} : { client_msg_id: clientMsgId }),
    };
  }

  /** A send that took a counter value and failed before storing: a gap in msg_ids. */
  skip(sessionId: string, sessionType = 1): void {
    const conversation = this.#conversation(sessionId, sessionType);
    conversation.next += 1;
    conversation.updatedTime = this.tick();
  }

  /**
   * Stores a message under a msg_id that a failed send took earlier (a resend within the idempotency window stores
   * it late), with create_time now. Returns it.
   */
  fill(sessionId: string, msgId: number, sessionType = 1): StoredMessage {
    const conversation = this.#conversation(sessionId, sessionType);
    const message: StoredMessage = {
      msg_id: msgId,
      from_user_id: sessionType === 2 ? 'someone' : sessionId,
      create_time: this.tick(),
      msg_type: sessionType === 2 ? 17 : 1,
      msg_data: `${sessionId} #${msgId} (late)`,
    };
    conversation.messages.push(message);
    conversation.messages.sort((a, b) => a.msg_id - b.msg_id);
    return message;
  }

  /** The live msg_data frame of a stored message, as the server would push it to this user. */
  frameOf(sessionId: string, message: StoredMessage, sessionType = 1): Frame {
    const group = sessionType === 2;
    return {
      type: 'msg_data',
      from_user_id: message.from_user_id,
      to_session_id: group || message.from_user_id === this.userId ? sessionId : this.userId,
      msg_id: message.msg_id,
      create_time: message.create_time,
      msg_type: message.msg_type,
      msg_data: message.msg_data,
      ...(message.client_msg_id === undefined ? {} : { client_msg_id: message.client_msg_id }),
    };
  }

  requestsOf(action: string): Frame[] {
    return this.requests.filter((f) => f['action'] === action);
  }

  /** Answers a read-side request frame on `connection`; ignores other frames. Use as FakeServer's onFrame. */
  readonly onFrame = (connection: FakeConnection, frame: Frame): void => {
    const action = frame['action'];
    if (
      action !== 'recent_sessions' &&
      action !== 'msg_list' &&
      action !== 'msg_by_ids' &&
      action !== 'unread_cnt' &&
      action !== 'msg_read_ack' &&
      action !== 'remove_session'
    )
      return;
    const answer = () => {
      if (connection.socket.readyState !== connection.socket.OPEN) return;
      connection.send(this.answer(frame));
    };
    const gate = this.gate?.(frame);
    if (gate) void gate.then(answer);
    else answer();
  };

  /** The reply to a read-side request frame (recorded in `requests`). */
  answer(frame: Frame): Frame {
    this.requests.push(frame);
    const seq = frame['seq'];
    switch (frame['action']) {
      case 'recent_sessions': {
        const since = Number(frame['latest_update_time']);
        const sorted = [...this.conversations.entries()]
          .filter(([, c]) => c.updatedTime > since && c.messages.length > 0)
          .sort(([ka, a], [kb, b]) => b.updatedTime - a.updatedTime || (ka < kb ? -1 : 1));
        const start = typeof frame['page_token'] === 'string' ? Number(frame['page_token']) : 0;
        const page = sorted.slice(start, start + this.pageSize);
        return {
          type: 'recent_sessions',
          seq,
          contact_session_list: page.map(([, c]) => {
            const latest = c.messages.at(-1)!;
            return {
              session_id: c.sessionId,
              session_type: c.sessionType,
              updated_time: c.updatedTime,
              latest_msg_id: latest.msg_id,
              latest_msg_data: latest.msg_data,
              latest_msg_type: latest.msg_type,
              latest_msg_from_user_id: latest.from_user_id,
              ...(latest.recalled ? { latest_msg_recalled: true } : {}),
              ...(latest.edited_at === undefined ? {} : { latest_msg_edited_at: latest.edited_at }),
              unread_cnt: c.messages.filter(
                (m) =>
                  m.from_user_id !== this.userId &&
                  m.msg_id > (this.readMarks.get(`${c.sessionType}:${c.sessionId}`) ?? 0),
              ).length,
            };
          }),
          ...(start + this.pageSize < sorted.length ? { next_page_token: String(start + this.pageSize) } : {}),
        };
      }
      case 'msg_list': {
        const key = `${String(frame['session_type'])}:${String(frame['session_id'])}`;
        const refused = this.refuse.get(key);
        if (refused) return { type: 'error', seq, code: refused, message: 'refused by the test' };
        const begin = Number(frame['msg_id_begin']);
        const count = Number(frame['msg_cnt']);
        if (!(count >= 1 && count <= 100)) return { type: 'error', seq, code: 'bad_request', message: 'msg_cnt' };
        const messages = this.conversations.get(key)?.messages ?? [];
        const older = messages.filter((m) => begin === 0 || m.msg_id <= begin).reverse();
        const list = older.slice(0, Math.min(count, this.maxPerReply ?? count));
        const reply = {
          type: 'msg_list',
          seq,
          session_id: frame['session_id'],
          session_type: frame['session_type'],
          msg_id_begin: begin,
          msg_list: list,
        };
        return this.maxPerReply === undefined ? reply : { ...reply, has_more: older.length > list.length };
      }
      case 'msg_by_ids': {
        const key = `${String(frame['session_type'])}:${String(frame['session_id'])}`;
        const wanted = new Set(frame['msg_ids'] as number[]);
        const found = (this.conversations.get(key)?.messages ?? []).filter((m) => wanted.has(m.msg_id)).reverse();
        const list = found.slice(0, this.maxPerReply ?? found.length);
        const left = found.slice(list.length).map((m) => m.msg_id);
        return {
          type: 'msg_by_ids',
          seq,
          session_id: frame['session_id'],
          session_type: frame['session_type'],
          msg_list: list,
          ...(left.length > 0 ? { remaining_msg_ids: left } : {}),
        };
      }
      case 'msg_read_ack': {
        const key = `${String(frame['session_type'])}:${String(frame['session_id'])}`;
        this.readMarks.set(key, Math.max(this.readMarks.get(key) ?? 0, Number(frame['msg_id'])));
        return { type: 'msg_read_ack', seq };
      }
      default:
        return { type: String(frame['action']), seq };
    }
  }
}

/** An unsigned JWT-shaped token whose payload has `sub` (the SDK reads, the fake server does not verify). */
export function tokenFor(sub: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub })}.sig`;
}
