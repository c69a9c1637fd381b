/** The WebSocket API's @connections endpoint, as the use-cases post to it (core/gateway/connections-api.ts). */
import type { ServerFrame } from '../domain/frames.js';

/** Outcome of posting one frame to one connection. */
export type PostResult = 'delivered' | 'gone';

export interface Gateway {
  /**
   * Posts a frame to a connection: 'gone' for a closed connection (410). Throttling (429) and timeouts are retried
   * with backoff inside; when those retries run out it throws GatewayUnavailableError and the caller keeps the
   * delivery pending.
   */
  post(connectionId: string, frame: ServerFrame): Promise<PostResult>;
  /** Closes a connection (DELETE @connections); a connection already gone is not an error. */
  disconnect(connectionId: string): Promise<void>;
}
