/** Local-mode tokens: HS256 JWTs whose `sub` is the user id, signed with JWT_SECRET (what the authorizer verifies). */
import { SignJWT } from 'jose';
import { isUserId } from '../core/domain/ids.js';

export const DEFAULT_JWT_SECRET = 'local-dev-secret';
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 60 * 60;

export class InvalidUserIdError extends Error {
  override readonly name = 'InvalidUserIdError';
  constructor(userId: string) {
    super(`invalid user id ${JSON.stringify(userId)}: use 1-128 characters of A-Za-z0-9_.@-`);
  }
}

export interface MintOptions {
  /** Lifetime in seconds (default 24 h); negative values mint an already expired token (for tests). */
  readonly ttlSeconds?: number;
}

export async function mintToken(secret: string, userId: string, options: MintOptions = {}): Promise<string> {
  if (!isUserId(userId)) throw new InvalidUserIdError(userId);
  const now = Math.floor(Date.now() / 1000);
  const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(Math.min(now, now + ttl))
    .setExpirationTime(now + ttl)
    .sign(new TextEncoder().encode(secret));
}
