/**
 * Errors the SDK rejects promises with or reports on the `error` event. Every class has a stable `name`, so
 * `err instanceof ChatServerError` and `err.name === 'ChatServerError'` both work, also across bundles.
 */
import type { ErrorCode } from './frames.js';

/** Base class of every error the SDK produces. */
export class ChatError extends Error {
  override readonly name: string = 'ChatError';
}

/** The server answered a frame with `{"type":"error", …}`; `code` is one of the contract's codes. */
export class ChatServerError extends ChatError {
  override readonly name = 'ChatServerError';
  /** The contract's error code, e.g. `self_message`, `too_large`, `rate_limited`. */
  readonly code: ErrorCode;
  /** The `seq` of the refused frame, when the server echoed one. */
  readonly seq: number | undefined;

  constructor(code: ErrorCode, message: string, seq?: number) {
    super(message === '' ? code : `${code}: ${message}`);
    this.code = code;
    this.seq = seq;
  }
}

/**
 * The server refused the WebSocket upgrade (HTTP 401 or 403): the token is missing, malformed, wrongly signed or
 * expired. The client stops reconnecting. Browsers do not expose the HTTP status of a refused upgrade, so there
 * this error is only raised when `getToken` throws it (the SDK rethrows an AuthError from `getToken` as final).
 */
export class AuthError extends ChatError {
  override readonly name = 'AuthError';
  /** The HTTP status of the refused upgrade (401 or 403) when known. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** A `send()` was not acknowledged after all its attempts (`maxSendAttempts` ack timeouts). */
export class SendTimeoutError extends ChatError {
  override readonly name = 'SendTimeoutError';
  readonly clientMsgId: string;

  constructor(clientMsgId: string, attempts: number) {
    super(`message ${clientMsgId} not acknowledged after ${attempts} attempt(s)`);
    this.clientMsgId = clientMsgId;
  }
}

/** A `request()` got no reply within `requestTimeoutMs`. */
export class RequestTimeoutError extends ChatError {
  override readonly name = 'RequestTimeoutError';
  readonly action: string;

  constructor(action: string, timeoutMs: number) {
    super(`no reply to ${action} within ${timeoutMs} ms`);
    this.action = action;
  }
}

/**
 * The connection a `request()` was sent on closed before its reply arrived (requests are not resent, since not all
 * of them are idempotent), or the client was closed with `close()` while sends or requests were pending.
 */
export class ConnectionClosedError extends ChatError {
  override readonly name = 'ConnectionClosedError';
}

/** A server frame that is not a JSON object with a string `type`, or a known frame with mistyped fields. */
export class ProtocolError extends ChatError {
  override readonly name = 'ProtocolError';
  /** The raw frame text (truncated to 200 characters). */
  readonly frame: string;

  constructor(message: string, frame: string) {
    super(message);
    this.frame = frame.length > 200 ? `${frame.slice(0, 200)}…` : frame;
  }
}
