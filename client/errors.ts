/**
 * Errors the SDK rejects promises with or reports on the `error` event: one base class, one subclass per failure,
 * each with a stable `name`, so `err instanceof ChatServerError` works and so does `err.name` across bundles.
 */
import { ERROR_CODES, type KickReason, type KnownErrorCode } from './frames.js';

/** What an error was caused by (the ES2022 `ErrorOptions`, declared here so the types need no ES2022 library). */
export interface ChatErrorOptions {
  readonly cause?: unknown;
}

/** Base class of every error the SDK produces. */
export class ChatError extends Error {
  override readonly name: string = 'ChatError';

  constructor(message?: string, options?: ChatErrorOptions) {
    super(message);
    // Set here rather than through Error's own options (ES2022), which older engines ignore.
    if (options && 'cause' in options)
      Object.defineProperty(this, 'cause', { value: options.cause, writable: true, configurable: true });
  }
}

/** Codes after which the same frame may succeed later: the SDK resends messages refused with them by itself. */
export const RETRYABLE_CODES: readonly KnownErrorCode[] = ['rate_limited', 'internal'];

/**
 * The server refused a frame (`{"type":"error", …}`). `code` is one of the contract's codes, or `unknown` for a code
 * this SDK does not know (a newer server's; `serverCode` has it).
 */
export class ChatServerError extends ChatError {
  override readonly name: string = 'ChatServerError';
  /** The contract's error code, e.g. `self_message`, `too_large`, `rate_limited`. */
  readonly code: KnownErrorCode | 'unknown';
  /** The code as the server sent it. */
  readonly serverCode: string;
  /** The `seq` of the refused frame, when the server echoed one. */
  readonly seq: number | undefined;

  constructor(code: string, message: string, seq?: number) {
    super(message === '' ? code : `${code}: ${message}`);
    this.serverCode = code;
    this.code = (ERROR_CODES as readonly string[]).includes(code) ? (code as KnownErrorCode) : 'unknown';
    this.seq = seq;
  }

  /** Whether the same frame may succeed later (`rate_limited`, `internal`). */
  get retryable(): boolean {
    return RETRYABLE_CODES.includes(this.code as KnownErrorCode);
  }
}

/**
 * The token was refused: the server refused the upgrade (HTTP 401 or 403) twice in a row, once with a fresh token
 * from `getToken` (at once for a fixed `token`), or `getToken` threw an AuthError, or a fixed token expired. The
 * client stops. Browsers do not expose the status of a refused upgrade: there, only `getToken` can raise it.
 */
export class AuthError extends ChatError {
  override readonly name = 'AuthError';
  /** The HTTP status of the refused upgrade (401 or 403) when known. */
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ChatErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/**
 * A `send()` was transmitted `maxSendAttempts` times (10 by default) without an answer: its acks were overdue, or the
 * connection went before they came. The message may still have been stored: a send with the same `clientMsgId`
 * to the same conversation within 48 hours resolves with its ack, and never stores it twice.
 */
export class SendTimeoutError extends ChatError {
  override readonly name = 'SendTimeoutError';
  readonly clientMsgId: string;

  /** `when`: e.g. `after 10 attempt(s)`, `within 5000 ms`. */
  constructor(clientMsgId: string, when: string) {
    super(`message ${clientMsgId} not acknowledged ${when}; it may still be stored`);
    this.clientMsgId = clientMsgId;
  }
}

/**
 * `connect({ timeoutMs })` did not open in time. The client goes on trying (call `close()` to stop it); `cause` is
 * the last attempt's error. Browsers and Node's built-in WebSocket do not say why an upgrade failed, so a refused
 * token and an unreachable server look alike there.
 */
export class ConnectTimeoutError extends ChatError {
  override readonly name = 'ConnectTimeoutError';

  constructor(timeoutMs: number, options?: ChatErrorOptions) {
    super(`not connected within ${timeoutMs} ms`, options);
  }
}

/** A call's AbortSignal aborted (`connect()`, `send()`, an upload). A send aborted after it went out may be stored. */
export class AbortError extends ChatError {
  override readonly name = 'AbortError';

  constructor(message = 'aborted') {
    super(message);
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
 * The client is closed (`close()`, or it gave up), so a call cannot be made, or the connection a `request()` was
 * sent on closed before its reply arrived (requests are not resent: not all of them are idempotent). A send that
 * rejects with it may have been stored: resend it with the same `clientMsgId` to find out.
 */
export class ConnectionClosedError extends ChatError {
  override readonly name: string = 'ConnectionClosedError';
}

/**
 * The server closed this connection (`kick`) and the client does not reconnect by itself: `too_many_connections`
 * (the user opened a newer one past the per-user cap; reconnecting at once would make two devices displace each
 * other in a loop: the app decides, e.g. asks the user, then calls `connect()`), `suspended` (an operator suspended
 * the account: connections are refused until lifted) or `account_deleted` (the account was deleted, by
 * `deleteAccount()` or an operator: sign the user out).
 */
export class KickedError extends ConnectionClosedError {
  override readonly name = 'KickedError';
  readonly reason: KickReason;

  constructor(reason: KickReason) {
    super(`the server closed the connection: ${reason}`);
    this.reason = reason;
  }
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
