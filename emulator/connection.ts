/**
 * One accepted WebSocket connection as API Gateway keeps it: the frame and message size limits on what the client
 * sends, binary frames refused, the idle and maximum-duration timers, @connections sends split into 32 KB frames
 * and refused while the client is not reading, and a bound on the frames whose invocations run at once. Past the
 * bound, frames wait in arrival order and the socket is not read until one finishes, so a burst is paced by TCP
 * rather than started all at once; the wait list holds at most what one socket read brought (ws parses a whole
 * read at once).
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { ConnectionInfo } from './events.js';
import { CLOSE, FrameSizeMonitor, type EmulatorLimits } from './limits.js';
import type { ManagedConnection, SendResult } from './management.js';
import { setLongTimeout, type LongTimer } from './timers.js';
import type { EmulatorLogger } from './types.js';

/** What the connection reports to the emulator. */
export interface ConnectionEvents {
  /** A complete text message: select its route and invoke it; call `done` when the invocation has finished. */
  onMessage(connection: LiveConnection, body: string, done: () => void): void;
  /** The socket closed; `$disconnect` is due unless the connection was dropped. */
  onClosed(connection: LiveConnection, code: number, reason: string): void;
  readonly log: EmulatorLogger;
}

export class LiveConnection implements ManagedConnection {
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
  lastActiveAt = Date.now();
  /** Set once the emulator decided to close it: later frames are dropped and $disconnect reports this code. */
  closing?: { readonly code: number; readonly reason: string };
  /** dropConnection(): no $disconnect. */
  suppressDisconnect = false;
  readonly closed: Promise<void>;
  private framesInFlight = 0;
  private waiting: string[] = [];
  private starting = false;
  private timers: LongTimer[] = [];

  constructor(
    readonly info: ConnectionInfo,
    readonly ws: WebSocket,
    socket: Socket,
    private readonly limits: EmulatorLimits,
    private readonly events: ConnectionEvents,
  ) {
    this.connectedAt = info.connectedAt;
    this.sourceIp = info.sourceIp;
    if (info.userAgent !== undefined) this.userAgent = info.userAgent;
    this.closed = new Promise<void>((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.clearTimers();
        resolve();
        if (!this.suppressDisconnect)
          events.onClosed(this, this.closing?.code ?? code, this.closing?.reason ?? reason.toString());
      });
    });
    this.watchFrames(socket);
    this.scheduleIdleCheck(limits.idleTimeoutMs);
    this.timers.push(setLongTimeout(() => this.close(CLOSE.goingAway, 'Going away'), limits.maxConnectionDurationMs));
  }

  get connectionId(): string {
    return this.info.connectionId;
  }

  send(data: Buffer): SendResult {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return 'gone';
    if (this.ws.bufferedAmount > this.limits.maxSendBufferBytes) return 'buffer_full';
    this.lastActiveAt = Date.now();
    const frameBytes = Math.max(1, Math.min(this.limits.maxFrameBytes, data.length));
    // One synchronous loop: ws queues the fragments in order and no other message can come between them.
    for (let offset = 0; offset < data.length || offset === 0; offset += frameBytes) {
      const fin = offset + frameBytes >= data.length;
      this.ws.send(data.subarray(offset, offset + frameBytes), { binary: false, fin }, (error) => {
        if (error) this.events.log.warn('send failed', { connectionId: this.connectionId, error: error.message });
      });
      if (fin) break;
    }
    return 'sent';
  }

  /** DeleteConnection: closes with 1000; $disconnect follows. */
  close(code: number = CLOSE.normal, reason = ''): void {
    if (this.closing) return;
    this.closing = { code, reason };
    this.clearTimers();
    this.ws.close(code, reason);
  }

  /** Terminates the socket without $disconnect (a lost $disconnect on AWS). */
  drop(): void {
    this.suppressDisconnect = true;
    this.closing ??= { code: CLOSE.abnormal, reason: '' };
    this.ws.terminate();
  }

  /** Frame and message size limits, binary frames, and each text message as a route invocation. */
  private watchFrames(socket: Socket): void {
    const frames = new FrameSizeMonitor(this.limits.maxFrameBytes);
    socket.prependListener('data', (chunk: Buffer) => {
      if (frames.feed(chunk)) this.close(CLOSE.messageTooBig, 'Message too big');
    });
    this.ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.closing) return;
      this.lastActiveAt = Date.now();
      if (isBinary) return this.close(CLOSE.unsupportedData, 'Binary frames are not supported');
      this.startFrame(rawText(data));
    });
    this.ws.on('error', (error) => {
      // ws closes with 1009 itself when a message is over maxPayload; $disconnect reports that code.
      if ((error as Error & { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.closing ??= { code: CLOSE.messageTooBig, reason: 'Message too big' };
        return;
      }
      this.events.log.warn('socket error', { connectionId: this.connectionId, error: error.message });
    });
  }

  private startFrame(body: string): void {
    this.waiting.push(body);
    this.startWaitingFrames();
  }

  /** Starts waiting frames up to the bound (not re-entered when an invocation finishes at once). */
  private startWaitingFrames(): void {
    if (this.starting) return;
    this.starting = true;
    try {
      while (this.waiting.length > 0 && this.framesInFlight < this.limits.maxFramesInFlight && !this.closing) {
        const body = this.waiting.shift()!;
        this.framesInFlight += 1;
        let finished = false;
        this.events.onMessage(this, body, () => {
          if (finished) return;
          finished = true;
          this.framesInFlight -= 1;
          this.startWaitingFrames();
        });
      }
      if (this.closing) this.waiting = [];
    } finally {
      this.starting = false;
    }
    if (this.ws.readyState !== this.ws.OPEN) return;
    const saturated = this.framesInFlight >= this.limits.maxFramesInFlight;
    if (saturated && !this.ws.isPaused) this.ws.pause();
    else if (!saturated && this.ws.isPaused) this.ws.resume();
  }

  private scheduleIdleCheck(delayMs: number): void {
    const timer = setLongTimeout(() => {
      this.timers = this.timers.filter((t) => t !== timer);
      const idleFor = Date.now() - this.lastActiveAt;
      if (idleFor >= this.limits.idleTimeoutMs) this.close(CLOSE.goingAway, 'Going away');
      else this.scheduleIdleCheck(this.limits.idleTimeoutMs - idleFor);
    }, delayMs);
    this.timers.push(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) timer.cancel();
    this.timers = [];
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
