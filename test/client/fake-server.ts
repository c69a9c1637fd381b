/**
 * A fake chat server for SDK tests: a `ws` WebSocketServer on a free loopback port that records every connection
 * and frame and lets a test answer by hand. Nothing here knows the real handlers.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export type Frame = Record<string, unknown>;

export interface FakeServerOptions {
  /** Returns an HTTP status to refuse the upgrade with (e.g. 401), or undefined to accept. */
  readonly refuse?: (query: URLSearchParams) => number | undefined;
  /** Called for every frame a client sends (after it is recorded), e.g. to auto-acknowledge. */
  readonly onFrame?: (connection: FakeConnection, frame: Frame) => void;
}

/** One accepted client connection, seen from the server. */
export class FakeConnection {
  readonly frames: Frame[] = [];
  readonly #unread: Frame[] = [];
  readonly #waiters: { filter: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = [];
  readonly closed: Promise<void>;

  constructor(
    readonly socket: WebSocket,
    readonly query: URLSearchParams,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Records a frame from the client and hands it to a waiter, if one wants it. */
  receive(frame: Frame): void {
    this.frames.push(frame);
    const index = this.#waiters.findIndex((waiter) => waiter.filter(frame));
    if (index >= 0) this.#waiters.splice(index, 1)[0]!.resolve(frame);
    else this.#unread.push(frame);
  }

  /** The next frame from the client that passes `filter` (one already received and not taken counts). */
  nextFrame(filter: (frame: Frame) => boolean = () => true): Promise<Frame> {
    const index = this.#unread.findIndex(filter);
    if (index >= 0) return Promise.resolve(this.#unread.splice(index, 1)[0]!);
    return new Promise((resolve) => this.#waiters.push({ filter, resolve }));
  }

  /** The next frame with this `action`. */
  nextAction(action: string): Promise<Frame> {
    return this.nextFrame((frame) => frame['action'] === action);
  }

  send(frame: Frame): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Drops the TCP connection without a close handshake (as a crashed server or a lost network would). */
  drop(): void {
    this.socket.terminate();
  }
}

export class FakeServer {
  readonly connections: FakeConnection[] = [];
  /** Upgrade requests, accepted or refused, in order. */
  readonly upgrades: readonly URLSearchParams[];
  readonly #wss: WebSocketServer;
  readonly #waiters: ((connection: FakeConnection) => void)[] = [];
  #taken = 0;

  private constructor(wss: WebSocketServer, options: FakeServerOptions, upgrades: readonly URLSearchParams[]) {
    this.#wss = wss;
    this.upgrades = upgrades;
    wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
      const connection = new FakeConnection(socket, queryOf(request));
      this.connections.push(connection);
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        const frame = JSON.parse(data.toString()) as Frame;
        connection.receive(frame);
        options.onFrame?.(connection, frame);
      });
      const waiter = this.#waiters.shift();
      if (waiter) {
        this.#taken += 1;
        waiter(connection);
      }
    });
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const upgrades: URLSearchParams[] = [];
    const wss = await new Promise<WebSocketServer>((resolve, reject) => {
      const server = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        verifyClient: (info, callback) => {
          const query = queryOf(info.req);
          upgrades.push(query);
          const status = options.refuse?.(query);
          if (status === undefined) callback(true);
          else callback(false, status, status === 401 ? 'Unauthorized' : 'Forbidden');
        },
      });
      server.once('listening', () => resolve(server));
      server.once('error', reject);
    });
    return new FakeServer(wss, options, upgrades);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#wss.address() as AddressInfo).port}`;
  }

  /** The next connection not yet handed out by this method, in order of arrival. */
  nextConnection(): Promise<FakeConnection> {
    const ready = this.connections[this.#taken];
    if (ready) {
      this.#taken += 1;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Terminates every connection and stops listening. */
  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

function queryOf(request: IncomingMessage): URLSearchParams {
  return new URL(request.url ?? '/', 'http://localhost').searchParams;
}

/** Answers a msg_data frame with the contract's msg_data_ack (`msg_id` given by the test). */
export function ackFor(frame: Frame, msgId: number, userId = 'alice'): Frame {
  return {
    type: 'msg_data_ack',
    seq: frame['seq'],
    user_id: userId,
    session_id: frame['to_session_id'],
    msg_id: msgId,
    session_type: 1,
    create_time: 1_790_000_000,
    client_msg_id: frame['client_msg_id'],
  };
}

export interface AutoAckOptions {
  /**
   * msg_data frames accepted per fixed one-second window of `now()` (the server's own rate limit, per user);
   * the rest are refused `rate_limited`. Default: no limit.
   */
  readonly ratePerSecond?: number;
  /** The server's clock, ms. Default Date.now (vitest's fake timers replace it). */
  readonly now?: () => number;
  /** Answers a msg_data frame with this error code instead of acking it (undefined = ack). Called once per frame. */
  readonly refuse?: (frame: Frame) => string | undefined;
}

/**
 * A fake message path: acks every msg_data with the contract's msg_data_ack, numbering msg_ids per conversation and
 * answering a resend of a stored (conversation, client_msg_id) with its first ack, as the real server does.
 */
export class AutoAck {
  /** Stored messages in the order they were numbered. */
  readonly stored: {
    readonly to: string;
    readonly msgId: number;
    readonly clientMsgId: string;
    readonly msgData: string;
  }[] = [];
  /** Every msg_data frame received, with what it was answered: a msg_id or an error code. */
  readonly answers: { readonly clientMsgId: string; readonly answer: number | string }[] = [];
  readonly #counters = new Map<string, number>();
  readonly #byKey = new Map<string, number>();
  #window = -1;
  #inWindow = 0;

  constructor(private readonly options: AutoAckOptions = {}) {}

  /** Use as FakeServer's onFrame. */
  readonly onFrame = (connection: FakeConnection, frame: Frame): void => {
    if (frame['action'] !== 'msg_data') return;
    const clientMsgId = String(frame['client_msg_id']);
    const refusal = this.#refusal(frame);
    if (refusal !== undefined) {
      this.answers.push({ clientMsgId, answer: refusal });
      connection.send({ type: 'error', seq: frame['seq'], code: refusal, message: 'refused by the fake server' });
      return;
    }
    const to = String(frame['to_session_id']);
    const key = `${to}\u0000${clientMsgId}`;
    let msgId = this.#byKey.get(key);
    if (msgId === undefined) {
      msgId = (this.#counters.get(to) ?? 0) + 1;
      this.#counters.set(to, msgId);
      this.#byKey.set(key, msgId);
      this.stored.push({ to, msgId, clientMsgId, msgData: String(frame['msg_data']) });
    }
    this.answers.push({ clientMsgId, answer: msgId });
    connection.send({ ...ackFor(frame, msgId), session_type: Number(frame['msg_type']) >= 17 ? 2 : 1 });
  };

  /** How many frames were refused with `code`. */
  refused(code: string): number {
    return this.answers.filter((a) => a.answer === code).length;
  }

  #refusal(frame: Frame): string | undefined {
    const refused = this.options.refuse?.(frame);
    if (refused !== undefined) return refused;
    const limit = this.options.ratePerSecond;
    if (limit === undefined) return undefined;
    const window = Math.floor((this.options.now ?? Date.now)() / 1000);
    if (window !== this.#window) {
      this.#window = window;
      this.#inWindow = 0;
    }
    this.#inWindow += 1;
    return this.#inWindow > limit ? 'rate_limited' : undefined;
  }
}
