/**
 * API Gateway WebSocket quotas that the emulator enforces (AWS's "Quotas for configuring and running a WebSocket
 * API"; none can be raised on AWS), plus the emulator's own bounds where AWS throttles without a documented number.
 * Here they are options so tests can make the timers short. Any of them may be Infinity.
 */

export interface EmulatorLimits {
  /** Largest message (all frames of it) a client may send: 128 KB. Larger closes the connection with 1009. */
  readonly maxMessageBytes: number;
  /** Largest single WebSocket frame a client may send: 32 KB. Larger closes the connection with 1009. */
  readonly maxFrameBytes: number;
  /** Largest PostToConnection payload: 128 KB. Larger answers 413 PayloadTooLargeException. */
  readonly maxPostBytes: number;
  /** No data frame in either direction for this long closes the connection (1001): 10 minutes. */
  readonly idleTimeoutMs: number;
  /** Every connection is closed (1001) this long after it opened: 2 hours. */
  readonly maxConnectionDurationMs: number;
  /** API Gateway stops waiting for an integration after 29 s. */
  readonly integrationTimeoutMs: number;
  /** Longest WebSocket URL (path and query) accepted by the upgrade: 4,096 characters. Longer answers 414. */
  readonly maxUrlLength: number;
  /**
   * Frames of one connection whose route invocations run at once; past it the emulator stops reading that socket
   * until one finishes (TCP pushes back on the client). AWS throttles bursts without a per-connection number: 32
   * is the emulator's, enough for any client that waits for replies.
   */
  readonly maxFramesInFlight: number;
  /**
   * Bytes queued for a client that does not read before @connections POST answers 429 LimitExceededException
   * ("the WebSocket client side buffer is full"; AWS gives no size): 1 MiB.
   */
  readonly maxSendBufferBytes: number;
}

/** API Gateway's largest WebSocket message, either way: a client's message or a PostToConnection payload. */
const MAX_MESSAGE_BYTES = 128 * 1024;

export const AWS_LIMITS: EmulatorLimits = {
  maxMessageBytes: MAX_MESSAGE_BYTES,
  maxFrameBytes: 32 * 1024,
  maxPostBytes: MAX_MESSAGE_BYTES,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionDurationMs: 2 * 60 * 60 * 1000,
  integrationTimeoutMs: 29_000,
  maxUrlLength: 4_096,
  maxFramesInFlight: 32,
  maxSendBufferBytes: 1024 * 1024,
};

/** WebSocket close codes the emulator uses (RFC 6455 §7.4.1). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  abnormal: 1006,
  messageTooBig: 1009,
} as const;

/**
 * Watches the raw bytes a client sends and reports the first data frame whose payload is over the limit. `ws`
 * only bounds whole messages (maxPayload), while API Gateway also bounds each frame, so the emulator parses frame
 * headers itself (client frames are always masked; no extensions are negotiated, so the wire length is the
 * payload length).
 */
export class FrameSizeMonitor {
  private header: number[] = [];
  private remaining = 0;
  private tripped = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds received bytes; true once a frame over the limit has started (and from then on). */
  feed(chunk: Buffer): boolean {
    if (this.tripped) return true;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= n;
        offset += n;
        continue;
      }
      while (offset < chunk.length && this.header.length < headerLength(this.header)) {
        this.header.push(chunk[offset++]!);
      }
      if (this.header.length < headerLength(this.header)) break;
      const opcode = this.header[0]! & 0x0f;
      const length = payloadLength(this.header);
      this.header = [];
      if (opcode < 0x08 && length > this.maxFrameBytes) {
        this.tripped = true;
        return true;
      }
      this.remaining = length;
    }
    return false;
  }
}

function headerLength(header: readonly number[]): number {
  if (header.length < 2) return 2;
  const len7 = header[1]! & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const mask = header[1]! & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

function payloadLength(header: readonly number[]): number {
  const len7 = header[1]! & 0x7f;
  if (len7 === 126) return (header[2]! << 8) | header[3]!;
  if (len7 === 127) {
    let value = 0;
    for (let i = 2; i < 10; i++) value = value * 256 + header[i]!;
    return value;
  }
  return len7;
}
