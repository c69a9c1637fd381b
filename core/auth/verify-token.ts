/**
 * Verifies the connection token (a JWT in `?token=`). Local mode signs HS256 tokens with a shared secret; on AWS
 * tokens come from an OIDC issuer (a Cognito user pool by default) and are checked against its JWKS. Verification
 * is jose's; this module only chooses keys and claims.
 */
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { isUserId } from '../domain/ids.js';

export interface TokenVerifierOptions {
  /** HS256 shared secret (local mode). Exclusive with issuer. */
  readonly secret?: string;
  /** Expected `iss`; keys are fetched from jwksUrl. */
  readonly issuer?: string;
  /** JWKS location; defaults to `${issuer}/.well-known/jwks.json` (Cognito's layout). */
  readonly jwksUrl?: string;
  /** Accepted audiences: a token passes if its `aud` or, for Cognito access tokens, `client_id` is one of them. */
  readonly audiences?: readonly string[];
}

export interface VerifiedIdentity {
  /** The token's `sub`: the only source of a user's identity. */
  readonly userId: string;
}

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export type TokenVerifier = (token: string | undefined) => Promise<VerifiedIdentity>;

/** Asymmetric algorithms accepted from an issuer's JWKS; `none` and HMAC are never accepted there. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const audiences = options.audiences?.filter((a) => a.length > 0) ?? [];
  let verify: (token: string) => Promise<JWTPayload>;
  if (options.secret !== undefined && options.secret !== '') {
    const key = new TextEncoder().encode(options.secret);
    verify = async (token) => (await jwtVerify(token, key, { algorithms: ['HS256'], issuer: options.issuer })).payload;
  } else if (options.issuer) {
    const jwks = createRemoteJWKSet(new URL(options.jwksUrl ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`));
    verify = async (token) => (await jwtVerify(token, jwks, { algorithms: JWKS_ALGORITHMS, issuer: options.issuer })).payload;
  } else {
    // Fail each verification, not the module load: a misconfigured authorizer refuses every connection loudly.
    verify = async () => {
      throw new Error(`token verifier needs ${AUTH_ENV.secret} or ${AUTH_ENV.issuer}`);
    };
  }

  return async (token) => {
    if (!token) throw new InvalidTokenError('missing token');
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) throw new InvalidTokenError(error.code);
      throw error;
    }
    if (audiences.length > 0) {
      const tokenAudiences = [
        ...(Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : []),
        ...(typeof payload['client_id'] === 'string' ? [payload['client_id']] : []),
      ];
      if (!tokenAudiences.some((a) => audiences.includes(a))) throw new InvalidTokenError('audience not accepted');
    }
    if (!isUserId(payload.sub)) throw new InvalidTokenError('sub is not a valid user id');
    return { userId: payload.sub };
  };
}

/** Environment variables of the authorizer. */
export const AUTH_ENV = {
  secret: 'JWT_SECRET',
  issuer: 'JWT_ISSUER',
  jwksUrl: 'JWT_JWKS_URL',
  audiences: 'JWT_AUDIENCES',
} as const;

export function tokenVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  return createTokenVerifier({
    secret: env[AUTH_ENV.secret],
    issuer: env[AUTH_ENV.issuer] || undefined,
    jwksUrl: env[AUTH_ENV.jwksUrl] || undefined,
    audiences: env[AUTH_ENV.audiences]?.split(',').map((a) => a.trim()),
  });
}
