/**
 * Catch-up after a (re)connect: what the client holds of each conversation, and the algorithm that fetches what it
 * missed in a bounded number of requests.
 *
 * 1. `recent_sessions` since the last sync time minus a margin (the server's filter is a strict `>` on whole
 *    seconds, and its clocks may disagree a little), every page.
 * 2. For every listed session whose `latest_msg_id` is above the client's mark for that conversation (and every
 *    conversation with a hole below messages it holds), `msg_list` pages backwards from that msg_id, each page asking
 *    for no more than the distance to the mark (≤ 100), until the mark or the beginning is reached.
 * 3. The new messages of a conversation are delivered in msg_id order, as `msg_data`-shaped frames, once its pages are
 *    in; live messages of that conversation that arrived meanwhile are held back and merged in, so each message is
 *    delivered once and a conversation's catch-up batch is in msg_id order.
 *
 * The mark of a conversation is the msg_id up to which the client holds every message (or knows it does not exist:
 * a counter value taken by a failed send leaves a gap in msg_ids for good). Messages held above the mark (live
 * messages arriving out of order, or past a gap) are remembered, so a hole is filled by the next catch-up and a gap is
 * scanned once, never looped on.
 */
import { ChatServerError, ConnectionClosedError } from './errors.js';
import {
  SessionType,
  isGroupMsgType,
  type ContactSession,
  type ListedMessage,
  type MsgDataFrame,
  type ReplyFrame,
  type RequestMap,
} from './frames.js';

/** What a client holds, to seed a restarted client (`options.syncState`) and to save (`getSyncState()`). JSON-safe. */
export interface SyncState {
  /** Server time (unix seconds) of the newest session change seen by the last complete catch-up; 0 = never synced. */
  readonly lastSyncTime: number;
  /**
   * Per conversation (key `"<session_type>:<session_id>"`, see {@link sessionKey}): the msg_id up to which the client
   * holds every message. Catch-up fetches only what is above it.
   */
  readonly latestMsgIds: Readonly<Record<string, number>>;
  /** Per conversation: msg_ids held above that mark (out-of-order arrivals, messages past a gap). Usually absent. */
  readonly heldAbove?: Readonly<Record<string, readonly number[]>>;
}

export interface CatchUpOptions {
  /** Seconds subtracted from the last sync time when asking for changed sessions. Default 60. */
  readonly marginSeconds?: number;
  /**
   * At most this many messages are fetched for one conversation (a client that never synced would otherwise fetch
   * whole histories); older ones are left to `listMessages()` scroll-back. Default 1000.
   */
  readonly maxMessagesPerSession?: number;
  /**
   * At most this many messages are fetched for a conversation the client holds nothing of (a client without saved
   * state, or a new peer); default `maxMessagesPerSession`. An app that loads history itself when a conversation is
   * opened sets it to its page size, or to 0: such a conversation then starts at its latest message, and only what
   * comes after it is caught up later.
   */
  readonly maxNewSessionMessages?: number;
  /** How many conversations are caught up at once. Default 4. */
  readonly concurrency?: number;
}

/** The `synced` event's payload and `sync()`'s result. */
export interface SyncResult {
  /** Sessions `recent_sessions` listed as changed since the last sync. */
  readonly sessions: number;
  /** Conversations whose messages were fetched with `msg_list`. */
  readonly sessionsCaughtUp: number;
  /** Missed messages delivered through the `message` event. */
  readonly messages: number;
  /** Requests sent: `recent_sessions` pages plus `msg_list` pages. */
  readonly requests: number;
  /** The sync time after this catch-up (unix seconds, the server's clock). */
  readonly lastSyncTime: number;
  readonly durationMs: number;
  /**
   * False when the server refused the catch-up of a conversation (reported on the `error` event): its mark and the
   * sync time stay where they were, so the next catch-up tries again.
   */
  readonly complete: boolean;
}

/** The requests catch-up makes; the client's `request()`. */
export interface SyncTransport {
  recentSessions(fields: RequestMap['recent_sessions']['request']): Promise<ReplyFrame<'recent_sessions'>>;
  msgList(fields: RequestMap['msg_list']['request']): Promise<ReplyFrame<'msg_list'>>;
  msgByIds(fields: RequestMap['msg_by_ids']['request']): Promise<ReplyFrame<'msg_by_ids'>>;
}

const MSG_LIST_MAX = 100;
/** Skipped msg_ids re-asked on each catch-up, per conversation, for as long as a resend could still store them. */
const MAX_SKIPPED_PER_CONVERSATION = 200;
const SKIPPED_TTL_MS = 48 * 60 * 60 * 1000;
const DEFAULTS = { marginSeconds: 60, maxMessagesPerSession: 1000, concurrency: 4 } as const;

/** The key of a conversation from the user's view: `"1:alice"` (single chat with alice), `"2:g-7"` (group g-7). */
export function sessionKey(sessionType: number, sessionId: string): string {
  return `${sessionType}:${sessionId}`;
}

/** The inverse of {@link sessionKey}; undefined for a key it did not make. */
export function parseSessionKey(key: string): { sessionType: SessionType; sessionId: string } | undefined {
  const match = /^(\d+):(.+)$/.exec(key);
  return match && (match[1] === '1' || match[1] === '2') ? { sessionType: Number(match[1]) as SessionType, sessionId: match[2]! } : undefined;
}

/** The conversation a message belongs to from `userId`'s view: the peer (whichever side sent it) or the group. */
export function sessionOfMessage(
  frame: Pick<MsgDataFrame, 'from_user_id' | 'to_session_id' | 'msg_type'>,
  userId: string,
): { sessionType: SessionType; sessionId: string } {
  if (isGroupMsgType(frame.msg_type)) return { sessionType: SessionType.Group, sessionId: frame.to_session_id };
  return { sessionType: SessionType.Single, sessionId: frame.from_user_id === userId ? frame.to_session_id : frame.from_user_id };
}

const isMsgId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Per conversation: the mark (every message ≤ it is held or does not exist) and the msg_ids held above it. */
export class HeldMessages {
  readonly #marks = new Map<string, number>();
  readonly #above = new Map<string, Set<number>>();
  /**
   * msg_ids at or below the mark a catch-up did not find, with when: a gap for good, or a send numbered but not
   * stored yet — its resend may store it under that msg_id as long as the server's idempotency window (48 h) lasts.
   */
  readonly #skipped = new Map<string, Map<number, number>>();

  /** Records a message; true the first time, false when it is held already. */
  add(key: string, msgId: number): boolean {
    const mark = this.mark(key);
    if (msgId <= mark) {
      const skipped = this.#skipped.get(key);
      if (!skipped?.delete(msgId)) return false;
      if (skipped.size === 0) this.#skipped.delete(key);
      return true;
    }
    let above = this.#above.get(key);
    if (above?.has(msgId)) return false;
    if (!above) {
      above = new Set();
      this.#above.set(key, above);
    }
    above.add(msgId);
    this.#advance(key, mark);
    return true;
  }

  has(key: string, msgId: number): boolean {
    return msgId <= this.mark(key) || (this.#above.get(key)?.has(msgId) ?? false);
  }

  /** Every message of the conversation up to this msg_id is held (or does not exist); 0 when nothing is known. */
  mark(key: string): number {
    return this.#marks.get(key) ?? 0;
  }

  /** Records that every message of (mark, top] is now held or known not to exist. */
  complete(key: string, top: number): void {
    const mark = this.mark(key);
    if (top <= mark) return;
    const above = this.#above.get(key);
    if (above) for (const id of above) if (id <= top) above.delete(id);
    this.#advance(key, top);
  }

  skip(key: string, ids: readonly number[], nowMs = Date.now()): void {
    if (ids.length === 0) return;
    const skipped = this.#skipped.get(key) ?? new Map<number, number>();
    for (const id of ids) if (!skipped.has(id)) skipped.set(id, nowMs);
    // Bounded: the newest few per conversation.
    for (const id of [...skipped.keys()].sort((a, b) => a - b).slice(0, Math.max(0, skipped.size - MAX_SKIPPED_PER_CONVERSATION))) skipped.delete(id);
    this.#skipped.set(key, skipped);
  }

  /** The skipped msg_ids still worth asking for, by conversation; older ones are forgotten. */
  skippedIds(nowMs = Date.now()): Map<string, number[]> {
    const live = new Map<string, number[]>();
    for (const [key, ids] of this.#skipped) {
      for (const [id, at] of ids) if (nowMs - at > SKIPPED_TTL_MS) ids.delete(id);
      if (ids.size === 0) this.#skipped.delete(key);
      else live.set(key, [...ids.keys()].sort((a, b) => a - b));
    }
    return live;
  }

  /** Whether messages above the mark are held (there is a hole below them). */
  holdsAbove(key: string): boolean {
    return (this.#above.get(key)?.size ?? 0) > 0;
  }

  /** Conversations with messages held above a hole, each with the highest such msg_id. */
  holes(): Map<string, number> {
    const holes = new Map<string, number>();
    for (const [key, above] of this.#above) {
      let top = 0;
      for (const id of above) top = Math.max(top, id);
      if (top > 0) holes.set(key, top);
    }
    return holes;
  }

  keys(): string[] {
    return [...new Set([...this.#marks.keys(), ...this.#above.keys()])];
  }

  export(): Pick<SyncState, 'latestMsgIds' | 'heldAbove'> {
    const latestMsgIds: Record<string, number> = {};
    for (const [key, mark] of this.#marks) latestMsgIds[key] = mark;
    const heldAbove: Record<string, number[]> = {};
    for (const [key, above] of this.#above) if (above.size > 0) heldAbove[key] = [...above].sort((a, b) => a - b);
    return Object.keys(heldAbove).length > 0 ? { latestMsgIds, heldAbove } : { latestMsgIds };
  }

  /** Adds a saved state; malformed entries are ignored. */
  load(state: Pick<SyncState, 'latestMsgIds' | 'heldAbove'>): void {
    for (const [key, mark] of Object.entries(state.latestMsgIds ?? {})) {
      if (parseSessionKey(key) && isMsgId(mark)) this.complete(key, mark);
    }
    for (const [key, ids] of Object.entries(state.heldAbove ?? {})) {
      if (!parseSessionKey(key) || !Array.isArray(ids)) continue;
      for (const id of ids) if (isMsgId(id) && id > 0) this.add(key, id);
    }
  }

  #advance(key: string, from: number): void {
    let mark = from;
    const above = this.#above.get(key);
    while (above?.delete(mark + 1)) mark += 1;
    if (mark > 0) this.#marks.set(key, mark);
    if (above && above.size === 0) this.#above.delete(key);
  }
}

interface Target {
  readonly key: string;
  readonly sessionId: string;
  readonly sessionType: SessionType;
  /** The newest msg_id to fetch from. */
  readonly top: number;
}

interface Run {
  /** 'all' while the changed sessions are not known yet, then the conversations still being caught up. */
  catching: 'all' | Set<string>;
  /** Live messages held back meanwhile, per conversation. */
  readonly buffer: Map<string, MsgDataFrame[]>;
}

const byMsgId = (a: { msg_id: number }, b: { msg_id: number }) => a.msg_id - b.msg_id;

/**
 * The client's sync state and catch-up runs. Messages reach the application through `deliver`, live ones and
 * caught-up ones alike, each (conversation, msg_id) once.
 */
export class Synchronizer {
  readonly held = new HeldMessages();
  readonly #deliver: (frame: MsgDataFrame) => void;
  readonly #marginSeconds: number;
  readonly #maxPerSession: number;
  readonly #maxNewSession: number;
  readonly #concurrency: number;
  #lastSyncTime = 0;
  #run: Run | undefined;

  constructor(options: CatchUpOptions, deliver: (frame: MsgDataFrame) => void, state?: SyncState) {
    this.#deliver = deliver;
    this.#marginSeconds = Math.max(0, options.marginSeconds ?? DEFAULTS.marginSeconds);
    this.#maxPerSession = Math.max(1, options.maxMessagesPerSession ?? DEFAULTS.maxMessagesPerSession);
    this.#maxNewSession = Math.max(0, options.maxNewSessionMessages ?? this.#maxPerSession);
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULTS.concurrency));
    if (state) {
      if (isMsgId(state.lastSyncTime)) this.#lastSyncTime = state.lastSyncTime;
      this.held.load(state);
    }
  }

  get lastSyncTime(): number {
    return this.#lastSyncTime;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  state(): SyncState {
    return { lastSyncTime: this.#lastSyncTime, ...this.held.export() };
  }

  /**
   * A live message (already acknowledged to the server). Dropped when held already; delivered at once, or — while
   * its conversation is being caught up — together with that conversation's missed messages.
   */
  receive(frame: MsgDataFrame, userId: string): void {
    const { sessionType, sessionId } = sessionOfMessage(frame, userId);
    const key = sessionKey(sessionType, sessionId);
    if (!this.held.add(key, frame.msg_id)) return;
    const run = this.#run;
    if (run && (run.catching === 'all' || run.catching.has(key))) {
      const buffered = run.buffer.get(key) ?? [];
      buffered.push(frame);
      run.buffer.set(key, buffered);
      return;
    }
    this.#deliver(frame);
  }

  /** One of this client's own sends was stored as msgId: the client holds it. */
  recordSent(sessionType: number, sessionId: string, msgId: number): void {
    this.held.add(sessionKey(sessionType, sessionId), msgId);
  }

  /**
   * Runs one catch-up. `isCurrent` turns false when the connection it runs on is gone: the run then stops with
   * ConnectionClosedError. A refused conversation is reported through `onError` and skipped; any other failure
   * stops the run. Live messages held back are delivered whatever happens.
   */
  async run(transport: SyncTransport, userId: string, isCurrent: () => boolean, onError: (error: Error) => void): Promise<SyncResult> {
    if (this.#run) throw new Error('a catch-up is already running');
    const startedAt = Date.now();
    const run: Run = { catching: 'all', buffer: new Map() };
    this.#run = run;
    let requests = 0;
    let messages = 0;
    let complete = true;
    let stopped = false;
    const ask = async <T>(send: () => Promise<T>): Promise<T> => {
      if (stopped || !isCurrent()) throw new ConnectionClosedError('the connection changed during catch-up');
      requests += 1;
      const reply = await send();
      if (stopped || !isCurrent()) throw new ConnectionClosedError('the connection changed during catch-up');
      return reply;
    };
    const flush = (key: string, fetched: MsgDataFrame[] = []): void => {
      const buffered = run.buffer.get(key) ?? [];
      run.buffer.delete(key);
      if (run.catching !== 'all') run.catching.delete(key);
      for (const frame of [...fetched, ...buffered].sort(byMsgId)) this.#deliver(frame);
    };

    try {
      // msg_ids earlier catch-ups skipped as holes: asked for again at the end of this one.
      const skippedBefore = this.held.skippedIds();
      // 1. Sessions changed since the last sync, every page.
      const since = this.#lastSyncTime > 0 ? Math.max(0, this.#lastSyncTime - this.#marginSeconds) : 0;
      const sessions: ContactSession[] = [];
      let pageToken: string | undefined;
      do {
        const fields = pageToken === undefined ? { latest_update_time: since } : { latest_update_time: since, page_token: pageToken };
        const reply = await ask(() => transport.recentSessions(fields));
        sessions.push(...(Array.isArray(reply.contact_session_list) ? reply.contact_session_list : []));
        pageToken = typeof reply.next_page_token === 'string' && reply.next_page_token !== '' ? reply.next_page_token : undefined;
      } while (pageToken !== undefined);

      const targets = new Map<string, Target>();
      for (const session of sessions) {
        const key = sessionKey(session.session_type, session.session_id);
        const top = Math.max(session.latest_msg_id, targets.get(key)?.top ?? 0);
        if (top > this.held.mark(key)) targets.set(key, { key, sessionId: session.session_id, sessionType: session.session_type, top });
      }
      for (const [key, top] of this.held.holes()) {
        const parsed = parseSessionKey(key);
        if (!parsed) continue;
        targets.set(key, { key, ...parsed, top: Math.max(top, targets.get(key)?.top ?? 0) });
      }
      run.catching = new Set(targets.keys());
      for (const key of [...run.buffer.keys()]) if (!targets.has(key)) flush(key);

      // 2. Each changed conversation, a few at a time.
      const queue = [...targets.values()];
      const catchUp = async (target: Target): Promise<void> => {
        let fetched: ListedMessage[];
        let coveredFrom: number;
        try {
          [fetched, coveredFrom] = await this.#fetchMissed(target, (fields) => ask(() => transport.msgList(fields)));
        } catch (error) {
          if (!(error instanceof ChatServerError)) throw error;
          complete = false;
          onError(error);
          flush(target.key);
          return;
        }
        const listedIds = new Set(fetched.map((m) => m.msg_id));
        const holes: number[] = [];
        for (let id = coveredFrom; id <= target.top; id++) if (!listedIds.has(id) && !this.held.has(target.key, id)) holes.push(id);
        const fresh = fetched.filter((m) => this.held.add(target.key, m.msg_id)).map((m) => toFrame(m, target, userId));
        this.held.complete(target.key, target.top);
        this.held.skip(target.key, holes);
        messages += fresh.length;
        flush(target.key, fresh);
      };
      const worker = async (): Promise<void> => {
        for (let target = queue.shift(); target; target = queue.shift()) await catchUp(target);
      };
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, queue.length) }, worker));

      // 3. A hole may be a send numbered before a later one but stored after it (a resend can store it up to 48 h
      // later): its live frame is taken when it comes (HeldMessages.add), and the holes of earlier catch-ups are
      // asked for again. A gap for good costs one msg_by_ids per catch-up per conversation, for 48 h.
      for (const [key, ids] of skippedBefore) {
        const parsed = parseSessionKey(key);
        if (!parsed) continue;
        const target: Target = { key, ...parsed, top: 0 };
        for (let i = 0; i < ids.length; i += 100) {
          const reply = await ask(() => transport.msgByIds({ session_id: parsed.sessionId, session_type: parsed.sessionType, msg_ids: ids.slice(i, i + 100) }));
          const found = (Array.isArray(reply.msg_list) ? reply.msg_list : []).filter((m) => this.held.add(key, m.msg_id)).sort(byMsgId);
          messages += found.length;
          for (const m of found) this.#deliver(toFrame(m, target, userId));
        }
      }

      if (complete) {
        for (const session of sessions) this.#lastSyncTime = Math.max(this.#lastSyncTime, session.updated_time);
      }
      return {
        sessions: sessions.length,
        sessionsCaughtUp: targets.size,
        messages,
        requests,
        lastSyncTime: this.#lastSyncTime,
        durationMs: Date.now() - startedAt,
        complete,
      };
    } finally {
      stopped = true;
      this.#run = undefined;
      for (const key of [...run.buffer.keys()]) flush(key);
    }
  }

  /** The messages of (mark, top], newest pages first; at most maxMessagesPerSession (maxNewSessionMessages). */
  async #fetchMissed(target: Target, msgList: SyncTransport['msgList']): Promise<[ListedMessage[], number]> {
    const mark = this.held.mark(target.key);
    const fetched: ListedMessage[] = [];
    const holdsNothing = mark === 0 && !this.held.holdsAbove(target.key);
    let budget = holdsNothing ? this.#maxNewSession : this.#maxPerSession;
    let begin = target.top;
    // With no budget nothing is listed, so nothing counts as a hole.
    let coveredFrom = budget > 0 ? mark + 1 : target.top + 1;
    while (begin > mark && budget > 0) {
      const count = Math.min(MSG_LIST_MAX, begin - mark, budget);
      const reply = await msgList({ session_id: target.sessionId, session_type: target.sessionType, msg_id_begin: begin, msg_cnt: count });
      const listed = (Array.isArray(reply.msg_list) ? reply.msg_list : []).filter((m) => Number.isSafeInteger(m.msg_id) && m.msg_id <= begin);
      fetched.push(...listed.filter((m) => m.msg_id > mark));
      budget -= count;
      // Fewer than asked for: nothing older exists.
      if (listed.length < count) {
        coveredFrom = mark + 1;
        break;
      }
      // The page is the `count` newest messages ≤ begin: nothing between its lowest msg_id and begin is missing. A
      // gap in msg_ids makes the page reach further back, possibly to or below the mark, which ends the scan.
      let lowest = begin;
      for (const m of listed) lowest = Math.min(lowest, m.msg_id);
      begin = lowest - 1;
      coveredFrom = budget > 0 ? mark + 1 : lowest;
    }
    return [fetched, coveredFrom];
  }
}

/** A listed message as the `msg_data` frame a live delivery would have been. */
function toFrame(message: ListedMessage, target: Target, userId: string): MsgDataFrame {
  const group = target.sessionType === SessionType.Group;
  return {
    type: 'msg_data',
    from_user_id: message.from_user_id,
    to_session_id: group || message.from_user_id === userId ? target.sessionId : userId,
    msg_id: message.msg_id,
    create_time: message.create_time,
    msg_type: message.msg_type,
    msg_data: message.msg_data,
  };
}
