/**
 * Test helpers shared by the emulator and end-to-end tests: a WebSocket client with an awaitable message queue,
 * an upgrade-refusal probe, and a recorder that lets a test await invocations instead of sleeping.
 */
import { WebSocket } from 'ws';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

interface Waiter<T> {
  readonly match: (value: T) => boolean;
  readonly resolve: (value: T) => void;
}

/** Values pushed by one side and awaited by the other; `take` consumes the first match, `waitFor` does not. */
export class Queue<T> {
  readonly all: T[] = [];
  private readonly pending: T[] = [];
  private waiters: (Waiter<T> & { consume: boolean })[] = [];

  push(value: T): void {
    this.all.push(value);
    let consumed = false;
    this.waiters = this.waiters.filter((waiter) => {
      if (consumed || !waiter.match(value)) return true;
      waiter.resolve(value);
      if (waiter.consume) consumed = true;
      return false;
    });
    if (!consumed) this.pending.push(value);
  }

  /** Resolves with the first unconsumed value that matches, removing it. */
  take(match: (value: T) => boolean = () => true, timeoutMs = 10_000, what = 'value'): Promise<T> {
    const index = this.pending.findIndex(match);
    if (index >= 0) return Promise.resolve(this.pending.splice(index, 1)[0]!);
    return this.wait(match, true, timeoutMs, what);
  }

  /** Resolves once any value (consumed or not) matches. */
  waitFor(match: (value: T) => boolean, timeoutMs = 10_000, what = 'value'): Promise<T> {
    const found = this.all.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return this.wait(match, false, timeoutMs, what);
  }

  /** Unconsumed values. */
  remaining(): readonly T[] {
    return [...this.pending];
  }

  private wait(match: (value: T) => boolean, consume: boolean, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(this.all).slice(0, 2000)}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        match,
        consume,
        resolve: (value: T) => {
          clearTimeout(timer);
          resolve(value);
        },
      };
      this.waiters.push(waiter);
    });
  }
}

export type Frame = Record<string, unknown>;

/** A WebSocket client whose text frames queue up for the test to take. */
export class TestClient {
  readonly messages = new Queue<string>();
  readonly closed: Promise<Closed>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(data.toString()));
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static open(
    url: string,
    options: { protocols?: string[]; headers?: Record<string, string> } = {},
  ): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`upgrade refused with ${res.statusCode}`));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  /** Attempts an upgrade that must be refused; resolves with the HTTP status and body. */
  static refusal(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('error', () => undefined);
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('upgrade was accepted'));
      });
      ws.once('unexpected-response', (req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
    });
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next JSON frame matching `match`, consumed. */
  async next(match: (frame: Frame) => boolean = () => true, timeoutMs = 10_000): Promise<Frame> {
    const text = await this.messages.take(
      (t) => {
        try {
          return match(JSON.parse(t) as Frame);
        } catch {
          return false;
        }
      },
      timeoutMs,
      'a matching frame',
    );
    return JSON.parse(text) as Frame;
  }

  /** Frames received and not taken yet, parsed. */
  unread(): Frame[] {
    return this.messages.remaining().map((t) => JSON.parse(t) as Frame);
  }

  async close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    const timer = setTimeout(() => this.ws.terminate(), 2_000);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A promise with its resolve function, for barriers in stub handlers. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
