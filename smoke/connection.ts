/**
 * A WebSocket connection of the smoke run that speaks raw frames of the wire contract: JSON text frames out, every
 * frame in kept until a step takes it. Deliberately not the SDK: the smoke checks the server, frame by frame.
 */
import { WebSocket } from 'ws';

export type Frame = Record<string, unknown>;

/** The upgrade was refused (the status API Gateway answered, e.g. 401 for a bad token). */
export class UpgradeRefusedError extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

interface Waiter {
  readonly match: (frame: Frame) => boolean;
  readonly resolve: (frame: Frame) => void;
}

export class SmokeConnection {
  /** Every frame received, in order. */
  readonly received: Frame[] = [];
  private readonly unread: Frame[] = [];
  private waiters: Waiter[] = [];
  private seq = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.onFrame(data.toString()));
  }

  static open(url: string, token: string, timeoutMs: number): Promise<SmokeConnection> {
    const target = new URL(url);
    target.searchParams.set('token', token);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(target, { handshakeTimeout: timeoutMs });
      ws.once('open', () => resolve(new SmokeConnection(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject(new UpgradeRefusedError(res.statusCode ?? 0));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /**
   * Sends a frame with a fresh seq; resolves with the server's direct reply to it (the only frame echoing that seq:
   * the reply, `msg_data_ack` for msg_data, or an error frame).
   */
  async request(action: string, fields: Frame, timeoutMs: number): Promise<Frame> {
    const seq = ++this.seq;
    this.send({ action, seq, ...fields });
    return this.next((f) => f['seq'] === seq, timeoutMs, `reply to ${action} (seq ${seq})`);
  }

  /** The first unread frame that matches, taken; rejects after timeoutMs. */
  next(match: (frame: Frame) => boolean, timeoutMs: number, what: string): Promise<Frame> {
    const index = this.unread.findIndex(match);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits until the server has answered everything sent before (a heartbeat round trip). */
  async barrier(timeoutMs: number): Promise<void> {
    await this.request('heartbeat', {}, timeoutMs);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }

  private onFrame(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      frame = { type: '(not JSON)', text };
    }
    this.received.push(frame);
    const waiter = this.waiters.find((w) => w.match(frame));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(frame);
    } else {
      this.unread.push(frame);
    }
  }
}
