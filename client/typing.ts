/**
 * Typing indicators (docs/protocol.md "Typing"): `ChatClient.typing()` / `stopTyping()` send through TypingSender, and
 * incoming `typing` frames go through TypingTracker, which keeps who is typing in each conversation.
 * - Sending: a `start` at most once per `intervalMs` + TYPING_JITTER_MS per conversation while the user types (the
 *   server forwards one per `intervalMs`, so a start never lands inside its window), one `stop` after it. Nothing is
 *   queued or resent: a typing frame is worth nothing once late, so while not connected it is dropped.
 * - Receiving: a user is typing from a `start` until its `stop`, a message from that user in that conversation, or
 *   `displayMs` (6 s) without another `start` — so a lost `stop` or a closed app never leaves "typing…" on screen.
 * The timers are injectable (tests move time by hand).
 */
import { conversationKey, type Conversation } from './conversation.js';
import {
  isGroupId,
  isUserId,
  LIMIT_DEFAULTS,
  SessionType,
  TYPING_DISPLAY_MS,
  TYPING_JITTER_MS,
  type ServerFrame,
  type TypingFrame,
  type TypingState,
} from './frames.js';

/** Time as the typing parts read and wait for it: the globals by default. */
export interface TypingTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TypingOptions {
  /** The server's TYPING_INTERVAL_MS: starts go out at most once per this + 500 ms. @default 3000 */
  readonly intervalMs?: number;
  /** How long a received `start` shows without another. @default 6000 */
  readonly displayMs?: number;
  /** @default the global clock and timers */
  readonly timers?: TypingTimers;
}

export const GLOBAL_TIMERS: TypingTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Who is typing in one conversation, after a change: the `typing` event. */
export interface TypingChange {
  readonly conversation: Conversation;
  /** The users typing there now (not this user), in the order they started. */
  readonly userIds: readonly string[];
}

/** A `typing` frame a server posted (`session_id` from this user's view). */
export function isTypingFrame(frame: ServerFrame): frame is TypingFrame & ServerFrame {
  return (
    frame.type === 'typing' &&
    isUserId(frame['user_id']) &&
    (frame['state'] === 'start' || frame['state'] === 'stop') &&
    ((frame['session_type'] === SessionType.Single && isUserId(frame['session_id'])) ||
      (frame['session_type'] === SessionType.Group && isGroupId(frame['session_id'])))
  );
}

/** The client side of the throttle: which frames to send as the user types and stops. */
export class TypingSender {
  /** Per conversation key: when its last `start` went out. Present while a `stop` is owed. */
  readonly #started = new Map<string, number>();
  readonly #intervalMs: number;
  readonly #timers: TypingTimers;

  constructor(
    options: TypingOptions,
    private readonly send: (conversation: Conversation, state: TypingState) => boolean,
  ) {
    this.#intervalMs = (options.intervalMs ?? LIMIT_DEFAULTS.typingIntervalMs) + TYPING_JITTER_MS;
    this.#timers = options.timers ?? GLOBAL_TIMERS;
  }

  /** The user typed: a `start`, unless one went out less than an interval ago. */
  typing(conversation: Conversation): void {
    const key = conversationKey(conversation);
    const last = this.#started.get(key);
    const now = this.#timers.now();
    if (last !== undefined && now - last < this.#intervalMs) return;
    if (this.send(conversation, 'start')) this.#started.set(key, now);
  }

  /** The user stopped (sent, cleared the input, left): a `stop`, if a `start` went out since the last one. */
  stopTyping(conversation: Conversation): void {
    const key = conversationKey(conversation);
    if (!this.#started.delete(key)) return;
    this.send(conversation, 'stop');
  }

  /** A new connection: the server's throttle does not know this client's starts any more than it did. */
  reset(): void {
    this.#started.clear();
  }
}

/** Who is typing where, from the frames received; `changed` is called with each conversation whose typists changed. */
export class TypingTracker {
  /** Per conversation key: its conversation and, per typist, the timer that ends its typing. */
  readonly #typing = new Map<string, { conversation: Conversation; typists: Map<string, unknown> }>();
  readonly #displayMs: number;
  readonly #timers: TypingTimers;

  constructor(
    options: TypingOptions,
    private readonly changed: (change: TypingChange) => void,
  ) {
    this.#displayMs = options.displayMs ?? TYPING_DISPLAY_MS;
    this.#timers = options.timers ?? GLOBAL_TIMERS;
  }

  /** The users typing in a conversation now. */
  typists(conversation: Conversation): string[] {
    return [...(this.#typing.get(conversationKey(conversation))?.typists.keys() ?? [])];
  }

  frame(frame: TypingFrame): void {
    const conversation: Conversation = {
      type: frame.session_type === SessionType.Group ? 'group' : 'peer',
      id: frame.session_id,
    };
    if (frame.state === 'stop') return this.clear(conversation, frame.user_id);
    const key = conversationKey(conversation);
    const entry = this.#typing.get(key) ?? { conversation, typists: new Map<string, unknown>() };
    this.#typing.set(key, entry);
    const had = entry.typists.get(frame.user_id);
    if (had !== undefined) this.#timers.clearTimeout(had);
    const timer = this.#timers.setTimeout(() => this.clear(conversation, frame.user_id), this.#displayMs);
    entry.typists.set(frame.user_id, timer);
    if (had === undefined) this.changed({ conversation, userIds: [...entry.typists.keys()] });
  }

  /** `userId` no longer types in the conversation (its `stop`, its message, or the expiry). */
  clear(conversation: Conversation, userId: string): void {
    const key = conversationKey(conversation);
    const entry = this.#typing.get(key);
    const timer = entry?.typists.get(userId);
    if (!entry || timer === undefined) return;
    this.#timers.clearTimeout(timer);
    entry.typists.delete(userId);
    if (entry.typists.size === 0) this.#typing.delete(key);
    this.changed({ conversation, userIds: [...entry.typists.keys()] });
  }

  /** Forgets everyone (the client closed): each conversation that had typists changes to none. */
  clearAll(): void {
    for (const { conversation, typists } of [...this.#typing.values()])
      for (const userId of [...typists.keys()]) this.clear(conversation, userId);
  }
}
