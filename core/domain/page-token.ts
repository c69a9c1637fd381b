/**
 * Page tokens: opaque to clients, a base64url JSON of where the next page starts, tagged with the action that made it
 * so that a token is refused by any other action.
 */
import { FrameError } from '../errors.js';

export function encodePageToken(action: string, position: unknown): string {
  return Buffer.from(JSON.stringify([action, position])).toString('base64url');
}

/** The position a token of `action` holds; bad_request for anything else. */
export function decodePageToken(token: string, action: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value[0] === action) return value[1];
  } catch {
    // fall through
  }
  throw new FrameError('bad_request', `page_token: not a token from a ${action} reply`);
}
