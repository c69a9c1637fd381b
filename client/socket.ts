/**
 * The WebSocket seam: the minimal surface the SDK uses, so the browser's WebSocket, Node's `ws` and React Native's
 * WebSocket all fit, and the connect URL with its query parameters.
 */
import { utf8Decode } from './ids.js';

/** The subset of the standard WebSocket the SDK uses. Handlers are typed loosely so every implementation fits. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from the `ws` package in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** readyState of an open socket (the standard's OPEN). */
export const OPEN = 1;

/** How a socket ended. */
export interface SocketClosed {
  readonly code: number;
  readonly reason: string;
  /** HTTP status of a refused upgrade, when the implementation reports it (Node's `ws` does; browsers do not). */
  readonly httpStatus: number | undefined;
}

export interface SocketHandlers {
  onOpen(): void;
  onText(text: string): void;
  onClosed(closed: SocketClosed): void;
}

/**
 * Builds `url?token=…&client_type=…`, keeping the URL's other query parameters and replacing an existing `token` or
 * `client_type`. Plain string work rather than URL.searchParams, which React Native's URL does not implement.
 */
export function buildConnectUrl(url: string, token: string, clientType: number | undefined): string {
  const hashAt = url.indexOf('#');
  const withoutHash = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const queryAt = withoutHash.indexOf('?');
  const base = queryAt >= 0 ? withoutHash.slice(0, queryAt) : withoutHash;
  const kept = (queryAt >= 0 ? withoutHash.slice(queryAt + 1) : '')
    .split('&')
    .filter((pair) => pair !== '' && !/^(token|client_type)(=|$)/.test(pair));
  kept.push(`token=${encodeURIComponent(token)}`);
  if (clientType !== undefined) kept.push(`client_type=${encodeURIComponent(String(clientType))}`);
  return `${base}?${kept.join('&')}`;
}

const noop = (): void => {};

/**
 * How implementations report a refused upgrade's HTTP status in their error event: Node's `ws` ("Unexpected server
 * response: 401"), React Native on Android (OkHttp: "Expected HTTP 101 response but was '401 Unauthorized'") and
 * on iOS (SocketRocket: "Received bad response code from server: 403."). Browsers do not report it at all.
 */
const REFUSED_UPGRADE = [
  /Unexpected server response: (\d{3})/,
  /Expected HTTP 101 response but was '(\d{3})/,
  /bad response code from server:? (\d{3})/i,
];

/** The texts an error event carries (`message`, `error.message`): implementations put it in one or the other. */
function errorTexts(event: unknown): string[] {
  if (typeof event !== 'object' || event === null) return [];
  const record = event as { message?: unknown; error?: { message?: unknown } | null };
  return [record.message, record.error?.message].filter((text): text is string => typeof text === 'string');
}

const errorText = (event: unknown): string | undefined => errorTexts(event)[0];

/** The HTTP status of a refused upgrade from an error event, when the implementation says. */
function statusFromErrorEvent(event: unknown): number | undefined {
  for (const text of errorTexts(event)) {
    for (const pattern of REFUSED_UPGRADE) {
      const match = pattern.exec(text);
      if (match) return Number(match[1]);
    }
  }
  return undefined;
}

/** A text frame's string; binary frames are decoded as UTF-8 (no TextDecoder needed: Hermes may lack it). */
function decodeData(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return utf8Decode(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return utf8Decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return undefined;
}

/**
 * Opens a socket and reports its life through `handlers`; `onClosed` is called exactly once. Returns the socket and
 * a function that detaches the handlers and closes it (after which no handler is called).
 */
export function openSocket(
  WebSocketImpl: WebSocketConstructor,
  url: string,
  handlers: SocketHandlers,
): { socket: WebSocketLike; dispose: (code?: number, reason?: string) => void } {
  const socket = new WebSocketImpl(url);
  let done = false;
  let opened = false;
  let httpStatus: number | undefined;

  const finish = (code: number, reason: string): void => {
    if (done) return;
    done = true;
    detach();
    handlers.onClosed({ code, reason, httpStatus });
  };
  // Handlers are replaced by no-ops rather than removed: `ws` throws an 'error' event that has no listener, which a
  // socket closed while still connecting emits.
  const detach = (): void => {
    socket.onopen = noop;
    socket.onmessage = noop;
    socket.onclose = noop;
    socket.onerror = noop;
  };

  socket.onopen = (() => {
    if (done) return;
    opened = true;
    handlers.onOpen();
  }) as () => void;
  socket.onmessage = ((event: { data: unknown }) => {
    if (done) return;
    const text = decodeData(event.data);
    if (text !== undefined) handlers.onText(text);
  }) as (event: never) => void;
  socket.onerror = ((event: unknown) => {
    httpStatus ??= statusFromErrorEvent(event);
    // Before the open, an error ends the attempt: Node's built-in WebSocket (undici) never follows it with a close.
    if (!opened) finish(1006, errorText(event) ?? 'the connection failed before it opened');
  }) as (event: never) => void;
  socket.onclose = ((event: { code?: number; reason?: string }) => {
    finish(event.code ?? 1006, event.reason ?? '');
  }) as (event: never) => void;

  const dispose = (code = 1000, reason = ''): void => {
    if (done) return;
    done = true;
    detach();
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that is still connecting may throw in some implementations; it is gone either way.
    }
  };
  return { socket, dispose };
}
