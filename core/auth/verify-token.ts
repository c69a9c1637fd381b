/**
 * Verifies the connection token (a JWT in `?token=`). Local mode signs HS256 tokens with a shared secret; on AWS
 * tokens come from an OIDC issuer (a Cognito user pool by default) and are checked against its JWKS. Verification
 * is jose's; this module only chooses keys and claims:
 * - every token must carry `exp` (a token that never expires would keep its connections for ever);
 * - an issuer's tokens must name an accepted audience: `aud`, or for a Cognito user pool's access tokens (which
 *   carry no `aud`) `client_id`; an issuer configured without audiences accepts nothing;
 * - a Cognito user pool's tokens must say `token_use` `id` (matched by `aud`) or `access` (matched by `client_id`);
 * - `iat` and `nbf` may be at most a small clock skew ahead (an issuer's clock may run a little ahead; a token "issued"
 *   years from now is forged or minted by a broken issuer), while `exp` is held to the second;
 * - optionally, a maximum age: a token whose `iat` is older is refused whatever its `exp` (and one without `iat`).
 */
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { isUserId } from '../domain/ids.js';
import { ConfigError, InvalidTokenError } from '../errors.js';

export interface TokenVerifierOptions {
  /** HS256 shared secret (local mode). Exclusive with issuer. */
  readonly secret?: string;
  /** Expected `iss`; keys are fetched from jwksUrl. */
  readonly issuer?: string;
  /** JWKS location; defaults to `${issuer}/.well-known/jwks.json` (Cognito's layout). */
  readonly jwksUrl?: string;
  /**
   * Accepted audiences, required with an issuer: a token passes if its `aud` or, for a Cognito user pool's access
   * tokens, its `client_id` is one of them.
   */
  readonly audiences?: readonly string[];
  /** How far ahead of this server's clock `iat` and `nbf` may be, in seconds. @default 60 */
  readonly clockSkewSeconds?: number;
  /** Oldest `iat` accepted, in seconds before now; a token without `iat` is then refused. @default - no maximum age */
  readonly maxTokenAgeSeconds?: number;
}

/** Default of TokenVerifierOptions.clockSkewSeconds: a minute, well above NTP-synchronized clocks' drift. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

export interface VerifiedIdentity {
  /** The token's `sub`: the only source of a user's identity. */
  readonly userId: string;
  /** The token's `exp`, unix seconds: when its connections must end. */
  readonly expiresAt: number;
}

export type TokenVerifier = (token: string | undefined) => Promise<VerifiedIdentity>;

/** Asymmetric algorithms accepted from an issuer's JWKS; `none` and HMAC are never accepted there. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** A Cognito user pool's issuer: `https://cognito-idp.<region>.amazonaws.com[.cn]/<poolId>`. */
const COGNITO_ISSUER = /^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[\w-]+$/;

export function isCognitoIssuer(issuer: string): boolean {
  return COGNITO_ISSUER.test(issuer);
}

/** The audiences a token names: `aud`, or for a Cognito issuer the claim its `token_use` says. */
function tokenAudiences(payload: JWTPayload, cognito: boolean): string[] {
  const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
  if (!cognito) return aud;
  switch (payload['token_use']) {
    case 'id':
      return aud;
    case 'access':
      return typeof payload['client_id'] === 'string' ? [payload['client_id']] : [];
    default:
      throw new InvalidTokenError('token_use is neither id nor access');
  }
}

/**
 * jose's claim checks: `nbf` (and with a maximum age, `iat`) within the skew. jose applies the same tolerance to `exp`;
 * checkTimes holds `exp` to the second again and refuses an `iat` ahead of the skew, which jose checks only with a
 * maximum age.
 */
function claimOptions(options: TokenVerifierOptions) {
  return {
    issuer: options.issuer,
    requiredClaims: ['exp'],
    clockTolerance: options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
    ...(options.maxTokenAgeSeconds === undefined ? {} : { maxTokenAge: options.maxTokenAgeSeconds }),
  };
}

function checkTimes(payload: JWTPayload, skewSeconds: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! <= now) throw new InvalidTokenError('ERR_JWT_EXPIRED');
  if (payload.iat !== undefined && payload.iat > now + skewSeconds) throw new InvalidTokenError('iat is in the future');
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const audiences = options.audiences?.filter((a) => a.length > 0) ?? [];
  const cognito = options.issuer !== undefined && isCognitoIssuer(options.issuer);
  const claims = claimOptions(options);
  let verify: (token: string) => Promise<JWTPayload>;
  if (options.secret !== undefined && options.secret !== '') {
    const key = new TextEncoder().encode(options.secret);
    verify = async (token) => (await jwtVerify(token, key, { algorithms: ['HS256'], ...claims })).payload;
  } else if (options.issuer && audiences.length > 0) {
    const jwks = createRemoteJWKSet(
      new URL(options.jwksUrl ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`),
    );
    verify = async (token) => (await jwtVerify(token, jwks, { algorithms: JWKS_ALGORITHMS, ...claims })).payload;
  } else {
    // Fail each verification, not the module load: a misconfigured authorizer refuses every connection loudly.
    const missing = options.issuer
      ? `${AUTH_ENV.audiences} (the accepted audiences)`
      : `${AUTH_ENV.secret} or ${AUTH_ENV.issuer}`;
    verify = async () => {
      throw new ConfigError(`token verifier needs ${missing}`);
    };
  }
  const checkAudience = options.issuer !== undefined && audiences.length > 0;

  return async (token) => {
    if (!token) throw new InvalidTokenError('missing token');
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) throw new InvalidTokenError(error.code);
      throw error;
    }
    checkTimes(payload, claims.clockTolerance);
    if (checkAudience && !tokenAudiences(payload, cognito).some((a) => audiences.includes(a))) {
      throw new InvalidTokenError('audience not accepted');
    }
    if (!isUserId(payload.sub)) throw new InvalidTokenError('sub is not a valid user id');
    return { userId: payload.sub, expiresAt: payload.exp! };
  };
}

/** Environment variables of the authorizer. */
export const AUTH_ENV = {
  secret: 'JWT_SECRET',
  issuer: 'JWT_ISSUER',
  jwksUrl: 'JWT_JWKS_URL',
  audiences: 'JWT_AUDIENCES',
  clockSkewSeconds: 'JWT_CLOCK_SKEW_SECONDS',
  maxTokenAgeSeconds: 'JWT_MAX_TOKEN_AGE_SECONDS',
} as const;

/** Whole seconds from the environment; unset or empty is undefined. Throws at load for anything else. */
function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ConfigError(`${name} must be whole seconds (0 or more), got "${raw}"`);
  return value;
}

export function tokenVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const clockSkewSeconds = seconds(env, AUTH_ENV.clockSkewSeconds);
  const maxTokenAgeSeconds = seconds(env, AUTH_ENV.maxTokenAgeSeconds);
  return createTokenVerifier({
    secret: env[AUTH_ENV.secret],
    issuer: env[AUTH_ENV.issuer] || undefined,
    jwksUrl: env[AUTH_ENV.jwksUrl] || undefined,
    audiences: env[AUTH_ENV.audiences]?.split(',').map((a) => a.trim()),
    ...(clockSkewSeconds === undefined ? {} : { clockSkewSeconds }),
    ...(maxTokenAgeSeconds === undefined ? {} : { maxTokenAgeSeconds }),
  });
}
