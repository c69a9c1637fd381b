/**
 * A minimal WebSocket client for the benchmark: raw `ws`, no SDK outbox or dedupe in the measured path. It counts
 * every frame it sends (API Gateway "in") and receives ("out"), time-stamps arrivals with performance.now(), and
 * can acknowledge deliveries the way client/ does (msg_data_ack with the peer, or the group, as session_id).
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export type Frame = Record<string, unknown>;

/** API Gateway messages seen on the wire, counted at the clients. */
export class FrameCounter {
  in = 0;
  out = 0;
  reset(): void {
    this.in = 0;
    this.out = 0;
  }
}

export type FrameListener = (frame: Frame, at: number) => void;

const GROUP_MSG_TYPES = new Set([17, 18]);

export class BenchClient {
  readonly listeners = new Set<FrameListener>();
  /** Acknowledge every msg_data as it arrives (a real client does). */
  autoAck = true;
  private closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly counter: FrameCounter,
    readonly userId: string,
    readonly connectionId: string,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data: WebSocket.RawData) => {
      const at = performance.now();
      this.counter.out++;
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
      } catch {
        return;
      }
      if (this.autoAck && frame['type'] === 'msg_data') this.ack(frame);
      for (const listener of this.listeners) listener(frame, at);
    });
  }

  static open(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  send(frame: Frame): void {
    this.counter.in++;
    this.ws.send(JSON.stringify(frame));
  }

  ack(frame: Frame): void {
    const group = GROUP_MSG_TYPES.has(Number(frame['msg_type']));
    const from = String(frame['from_user_id']);
    const to = String(frame['to_session_id']);
    this.send({
      action: 'msg_data_ack',
      msg_id: frame['msg_id'],
      session_id: group || from === this.userId ? to : from,
      session_type: group ? 2 : 1,
    });
  }

  /** The first frame (from now on) matching the predicate. */
  next(predicate: (frame: Frame) => boolean, timeoutMs = 15_000, what = 'frame'): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`${this.userId}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener: FrameListener = (frame) => {
        if (!predicate(frame)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(frame);
      };
      this.listeners.add(listener);
    });
  }

  /** A request/reply round trip: resolves with the reply (`type` = action) or the error frame for that seq. */
  async request(frame: Frame & { action: string; seq: number }, timeoutMs = 15_000): Promise<Frame> {
    const reply = this.next(
      (f) => f['seq'] === frame.seq && (f['type'] === frame.action || f['type'] === 'error'),
      timeoutMs,
      `${frame.action} reply`,
    );
    this.send(frame);
    return reply;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000);
    const timer = setTimeout(() => this.ws.terminate(), 2_000);
    await this.closed;
    clearTimeout(timer);
  }
}
