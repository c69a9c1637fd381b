/**
 * The connection's life, apart from what travels on it: getting a token, opening the socket, noticing a dead one
 * (a heartbeat reply missed within `pingTimeoutMs`, as Socket.IO's and Ably's ping timeouts do), reconnecting with
 * backoff (at once when asked, or when the platform says the network is back), kicks, refused tokens, and the state
 * model the application sees:
 *
 *   initialized → connecting → open ⇄ reconnecting → suspended (still retrying) → … → closed(reason)
 *
 * ChatClient owns one Connection and hears of it through {@link ConnectionEvents}; everything async checks a
 * generation number, bumped by every attempt and by stop(), so late callbacks of a gone socket change nothing.
 */
import { backoffDelay, type ResolvedReconnectOptions } from './backoff.js';
import { AuthError, ChatError, ConnectionClosedError, KickedError } from './errors.js';
import type { KickReason } from './frames.js';
import {
  OPEN,
  buildConnectUrl,
  openSocket,
  type SocketClosed,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.js';
import type { IntervalHandle, TimerHandle } from './timers.js';

/** The connection's state, as the `state` event and `client.connection.state` report it. */
export type ConnectionState = 'initialized' | 'connecting' | 'open' | 'reconnecting' | 'suspended' | 'closed';

/** Why the client is `closed`. */
export type CloseReason =
  /** `close()` or `signOut()` was called. */
  | 'closed_by_client'
  /** The token was refused ({@link AuthError}). */
  | 'auth_failed'
  /** A newer connection of the same user displaced this one ({@link KickedError}). */
  | 'too_many_connections'
  /** The account was suspended or deleted (`kick` `suspended` / `account_deleted`, {@link KickedError}). */
  | 'account_closed'
  /** `reconnect.maxAttempts` attempts failed in a row. */
  | 'reconnect_exhausted'
  /** The connection dropped and `reconnect: false`. */
  | 'reconnect_disabled'
  /** The WebSocket could not be created (e.g. a malformed `url`). */
  | 'connect_failed';

/** A snapshot of the connection (Ably's `connection` object): read it in a `state` listener. */
export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** While `reconnecting` or `suspended`: when the next attempt starts (ms since the epoch); in the past during one. */
  readonly nextAttemptAt?: number;
  /** While `closed` after `connect()`: why. */
  readonly reason?: CloseReason;
  /** The error behind the last drop or failed attempt (while not open), or behind the close. */
  readonly errorReason?: Error;
}

/** A source of the platform's `online` event: `window` in browsers. */
export interface NetworkEvents {
  addEventListener(type: 'online', listener: () => void): void;
  removeEventListener(type: 'online', listener: () => void): void;
}

export interface ConnectionOptions {
  readonly url: string;
  readonly getToken: () => Promise<string>;
  /** Whether `getToken` can give a fresh token (false for a fixed `token`). */
  readonly tokenIsRenewable: boolean;
  readonly clientType: number | undefined;
  readonly WebSocket: WebSocketConstructor;
  readonly connectTimeoutMs: number;
  readonly reconnect: ResolvedReconnectOptions | undefined;
  readonly suspendAfterMs: number;
  readonly heartbeatIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly networkEvents: NetworkEvents | undefined;
}

/** What the connection tells its client. */
export interface ConnectionEvents {
  /** A token is about to be used (the client reads its `sub`). */
  token(token: string): void;
  /** The socket opened; the state is `open` already, the `state` event follows. */
  opened(): void;
  /** A text frame arrived. */
  text(text: string): void;
  /** A heartbeat reply arrived in time: the connection carries frames both ways. */
  alive(): void;
  /** The socket is gone; a reconnect follows (or a stop). */
  lost(): void;
  /** The client stopped for good with `error`; `report` when the application did not ask for it. */
  stopped(error: Error, report: boolean): void;
  /** The status changed (state, next attempt, reason). */
  status(status: ConnectionStatus): void;
  /** A problem that does not stop the client (a failing `getToken`). */
  problem(error: Error): void;
}

export class Connection {
  readonly #options: ConnectionOptions;
  readonly #events: ConnectionEvents;
  #status: ConnectionStatus = { state: 'initialized' };
  #socket: WebSocketLike | undefined;
  #disposeSocket: ((code?: number, reason?: string) => void) | undefined;
  /** Bumped by every attempt and by stop(); stale async work compares and stops. */
  #generation = 0;
  #attempting = false;
  #nextSeq = 1;
  /** Consecutive failed attempts since the last open. */
  #failedAttempts = 0;
  /** Consecutive refused upgrades (401/403) since the last open. */
  #authRefusals = 0;
  /** When the connection was lost (or the first attempt failed), for `suspended`. */
  #lostAt: number | undefined;
  #kick: KickReason | undefined;
  #reconnectTimer: TimerHandle | undefined;
  #connectTimer: TimerHandle | undefined;
  #heartbeatTimer: IntervalHandle | undefined;
  #probe: { readonly seq: number; readonly timer: TimerHandle } | undefined;
  #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  readonly #onOnline = (): void => this.reconnectNow();

  constructor(options: ConnectionOptions, events: ConnectionEvents) {
    this.#options = options;
    this.#events = events;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get state(): ConnectionState {
    return this.#status.state;
  }

  /** The next frame seq: one counter for every frame of the client, across connections. */
  nextSeq(): number {
    return this.#nextSeq++;
  }

  /** Connects (or, during a backoff, attempts at once); resolves when open, rejects when the client stops first. */
  connect(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.state === 'initialized' || this.state === 'closed') {
      this.#failedAttempts = 0;
      this.#authRefusals = 0;
      this.#lostAt = undefined;
      this.#options.networkEvents?.addEventListener('online', this.#onOnline);
      this.#setStatus({ state: 'connecting' });
      void this.#attempt();
    } else {
      this.reconnectNow();
    }
    return opened;
  }

  /** Waiting to reconnect: attempts now. Open: checks the connection with a heartbeat (reconnects if unanswered). */
  reconnectNow(): void {
    if (this.state === 'open') this.probe();
    else if ((this.state === 'reconnecting' || this.state === 'suspended') && !this.#attempting) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      void this.#attempt();
    }
  }

  /** Sends a frame as JSON on the open socket; false when there is none. */
  send(frame: object): boolean {
    const socket = this.#socket;
    if (!socket || this.state !== 'open' || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends a heartbeat that must be answered within `pingTimeoutMs`, else the connection is dropped and reopened.
   * One at a time; a no-op when not open.
   */
  probe(): void {
    if (this.#probe || this.state !== 'open') return;
    const seq = this.nextSeq();
    if (!this.send({ action: 'heartbeat', seq })) return;
    this.#probe = {
      seq,
      timer: setTimeout(
        () => this.#drop(new ChatError(`no heartbeat reply within ${this.#options.pingTimeoutMs} ms`)),
        this.#options.pingTimeoutMs,
      ),
    };
  }

  /** True (and consumed) when `seq` is the pending heartbeat's: its reply, or an error frame answering it. */
  claim(seq: number): boolean {
    if (this.#probe?.seq !== seq) return false;
    clearTimeout(this.#probe.timer);
    this.#probe = undefined;
    this.#events.alive();
    return true;
  }

  /** The server sent `kick`: the connection ends now, and the reason decides what follows. */
  kicked(reason: KickReason): void {
    this.#kick = reason;
    this.#drop(new KickedError(reason));
  }

  /** Ends the connection for good with `error`. */
  stop(error: Error, reason: CloseReason, report: boolean): void {
    this.#generation += 1;
    this.#attempting = false;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#clearSocket()?.(1000, 'client closed');
    this.#options.networkEvents?.removeEventListener('online', this.#onOnline);
    this.#setStatus({ state: 'closed', reason, errorReason: error });
    this.#events.stopped(error, report);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  async #attempt(): Promise<void> {
    const generation = ++this.#generation;
    this.#attempting = true;
    let token: string;
    try {
      token = await this.#options.getToken();
      if (typeof token !== 'string' || token === '') throw new TypeError('getToken returned no token');
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#attempting = false;
      if (error instanceof AuthError) return this.stop(error, 'auth_failed', true);
      this.#events.problem(toError(error));
      return this.#retry(toError(error));
    }
    if (generation !== this.#generation) return;
    this.#events.token(token);
    try {
      const url = buildConnectUrl(this.#options.url, token, this.#options.clientType);
      const { socket, dispose } = openSocket(this.#options.WebSocket, url, {
        onOpen: () => this.#onOpen(),
        onText: (text) => this.#events.text(text),
        onClosed: (closed) => this.#onSocketClosed(closed),
      });
      this.#socket = socket;
      this.#disposeSocket = dispose;
    } catch (error) {
      return this.stop(toError(error), 'connect_failed', true);
    }
    this.#connectTimer = setTimeout(() => {
      this.#disposeSocket?.(4000, 'connect timeout');
      this.#onSocketClosed({ code: 1006, reason: 'connect timeout', httpStatus: undefined });
    }, this.#options.connectTimeoutMs);
  }

  #onOpen(): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#attempting = false;
    this.#failedAttempts = 0;
    this.#authRefusals = 0;
    this.#lostAt = undefined;
    this.#kick = undefined;
    // The client flushes what waited before anyone hears of the open state, so a listener's send is sent once.
    this.#status = { state: 'open' };
    this.#events.opened();
    if (this.state !== 'open') return; // A listener closed the client meanwhile.
    const interval = this.#options.heartbeatIntervalMs;
    if (interval > 0 && Number.isFinite(interval)) this.#heartbeatTimer = setInterval(() => this.probe(), interval);
    this.#events.status(this.#status);
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  /** Closes the socket from this side and handles it as a drop. */
  #drop(error: Error): void {
    if (!this.#socket) return;
    this.#clearSocket()?.(4000, error.message.slice(0, 100));
    this.#afterLoss({ code: 1006, reason: error.message, httpStatus: undefined }, error);
  }

  #onSocketClosed(closed: SocketClosed): void {
    this.#clearSocket();
    this.#afterLoss(
      closed,
      new ConnectionClosedError(`connection closed (${closed.code}${closed.reason ? `: ${closed.reason}` : ''})`),
    );
  }

  /** What follows a lost socket: a stop, an immediate attempt, or a retry with backoff. */
  #afterLoss(closed: SocketClosed, error: Error): void {
    this.#attempting = false;
    this.#events.lost();
    const kick = this.#kick;
    this.#kick = undefined;
    if (kick === 'too_many_connections') return this.stop(new KickedError(kick), 'too_many_connections', true);
    // The server refuses the account's connections now: reconnecting would only be refused (403).
    if (kick === 'suspended' || kick === 'account_deleted')
      return this.stop(new KickedError(kick), 'account_closed', true);
    if (kick === 'token_expired') {
      if (!this.#options.tokenIsRenewable)
        return this.stop(new AuthError('the token expired', undefined, { cause: error }), 'auth_failed', true);
      // A fresh token from getToken, at once: the server ended the connection, nothing is wrong with the network.
      this.#setStatus({ state: 'reconnecting', nextAttemptAt: Date.now(), errorReason: error });
      return void this.#attempt();
    }
    if (closed.httpStatus === 401 || closed.httpStatus === 403) {
      this.#authRefusals += 1;
      // A renewable token gets one fresh try: the refused one may just have expired.
      if (!this.#options.tokenIsRenewable || this.#authRefusals > 1) {
        return this.stop(
          new AuthError(`connection refused by the server (HTTP ${closed.httpStatus})`, closed.httpStatus),
          'auth_failed',
          true,
        );
      }
    }
    this.#retry(error);
  }

  /** Schedules the next attempt with backoff, or gives up. */
  #retry(error: Error): void {
    const reconnect = this.#options.reconnect;
    if (!reconnect)
      return this.stop(
        new ConnectionClosedError('connection closed (reconnect disabled)', { cause: error }),
        'reconnect_disabled',
        true,
      );
    if (this.#failedAttempts >= reconnect.maxAttempts) {
      return this.stop(
        new ConnectionClosedError(`gave up after ${this.#failedAttempts} reconnect attempt(s)`, { cause: error }),
        'reconnect_exhausted',
        true,
      );
    }
    const now = Date.now();
    const delay = backoffDelay(this.#failedAttempts, reconnect);
    this.#failedAttempts += 1;
    this.#lostAt ??= now;
    const state = now - this.#lostAt >= this.#options.suspendAfterMs ? 'suspended' : 'reconnecting';
    this.#setStatus({ state, nextAttemptAt: now + delay, errorReason: error });
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#attempt();
    }, delay);
  }

  /** Forgets the socket and its timers; returns the function that closes it (when there was one). */
  #clearSocket(): ((code?: number, reason?: string) => void) | undefined {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    clearTimeout(this.#probe?.timer);
    this.#probe = undefined;
    const dispose = this.#disposeSocket;
    this.#socket = undefined;
    this.#disposeSocket = undefined;
    return dispose;
  }

  #setStatus(status: ConnectionStatus): void {
    const previous = this.#status;
    this.#status = status;
    const same =
      previous.state === status.state &&
      previous.nextAttemptAt === status.nextAttemptAt &&
      previous.reason === status.reason;
    if (!same) this.#events.status(status);
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new ChatError(String(value));
}
