import { ClientType } from '../../protocol/frames.js';

/** A live WebSocket connection of a user. */
export interface Connection {
  readonly userId: string;
  readonly connectionId: string;
  /** Unix ms. */
  readonly connectedAt: number;
  /** TeamTalk's ClientType (protocol/frames.ts), when the client said. */
  readonly clientType?: number;
  /** Unix seconds when the connection's token expires: the sweeper closes the connection then. */
  readonly tokenExpiresAt?: number;
}

/** TeamTalk ClientType values accepted in `?client_type=`: the protocol's. */
const CLIENT_TYPES: readonly number[] = Object.values(ClientType);

/** Reads the optional client_type query parameter; anything that is not a known ClientType is ignored. */
export function parseClientType(raw: string | null | undefined): ClientType | undefined {
  if (raw === undefined || raw === null) return undefined;
  const value = Number(raw);
  return CLIENT_TYPES.includes(value) ? (value as ClientType) : undefined;
}

/** API Gateway closes every connection after 2 h; rows live a little longer, then TTL removes leftovers. */
export const CONNECTION_ROW_TTL_SECONDS = 3 * 60 * 60;
