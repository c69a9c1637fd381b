/**
 * ChatIdentity: who issues the connection tokens the $connect authorizer accepts — a Cognito user pool created
 * here (the default), an existing user pool, or any OIDC issuer — resolved to the issuer, audiences and JWKS URL the
 * authorizer is configured with (core/auth/verify-token.ts).
 */
import { Duration, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ConfigError } from '../core/errors.js';

/** Tokens from an existing Cognito user pool (issuer `https://cognito-idp.<region>.amazonaws.com/<poolId>`). */
export interface ExistingUserPoolAuthProps {
  /** The pool, e.g. `cognito.UserPool.fromUserPoolId(this, 'Pool', 'eu-west-1_abc')`. */
  readonly userPool: cognito.IUserPool;
  /**
   * Accepted app client ids (`aud` of id tokens, `client_id` of access tokens). Required: a pool's other clients
   * (an admin tool, another app) must not open chat connections.
   */
  readonly clientIds?: string[];
  readonly issuer?: never;
}

/** Tokens from any OIDC issuer that publishes a JWKS. */
export interface OidcAuthProps {
  /** Expected `iss` claim, e.g. `https://login.example.com/realms/chat`; must be https. */
  readonly issuer: string;
  /**
   * Accepted audiences (`aud`; for a Cognito user pool's access tokens `client_id`). Required: without one, any
   * token the issuer signs for any application would open a connection.
   */
  readonly audiences?: string[];
  /** JWKS location. @default `${issuer}/.well-known/jwks.json` */
  readonly jwksUrl?: string;
  readonly userPool?: never;
}

/**
 * Who issues the connection tokens (`?token=<jwt>`, `sub` = user id): an existing user pool (`{ userPool }`) or an
 * OIDC issuer (`{ issuer }`). Omit `auth` to have the construct create a Cognito user pool and app client.
 */
export type ChatBackendAuth = ExistingUserPoolAuthProps | OidcAuthProps;

export interface ChatIdentityProps {
  /** @default - a Cognito user pool and app client are created */
  readonly auth?: ChatBackendAuth;
  /** Removal policy of a created user pool. */
  readonly removalPolicy: RemovalPolicy;
  /** Deletion protection of a created user pool. */
  readonly deletionProtection: boolean;
  /** How a created user pool sends its mail. @default - Cognito's own sender (a low daily quota) */
  readonly email?: cognito.UserPoolEmail;
  /** OAuth settings of the created app client. @default - OAuth disabled */
  readonly oAuth?: cognito.OAuthSettings;
  /** A second app client with USER_PASSWORD_AUTH for the smoke run and the CLI. @default false */
  readonly smokeTestClient?: boolean;
}

export class ChatIdentity extends Construct {
  /** The `iss` the authorizer accepts. */
  public readonly issuer: string;
  /** The `aud` (or Cognito access-token `client_id`) values the authorizer accepts. */
  public readonly audiences: readonly string[];
  /** Where the issuer's keys are, when not `<issuer>/.well-known/jwks.json`. */
  public readonly jwksUrl?: string;
  /** The created user pool: only when `auth` is omitted. */
  public readonly userPool?: cognito.UserPool;
  /** The created app client: only when `auth` is omitted. */
  public readonly userPoolClient?: cognito.UserPoolClient;
  /** The smoke run's app client (USER_PASSWORD_AUTH): only with `smokeTestClient`. */
  public readonly smokeTestClient?: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: ChatIdentityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const auth = props.auth;
    if (auth && (props.email || props.oAuth || props.smokeTestClient)) {
      throw new ConfigError(
        'ChatBackend: userPoolEmail, userPoolOAuth and smokeTestClient apply to the user pool the construct creates; omit auth to create one',
      );
    }
    if (auth && 'userPool' in auth && auth.userPool) {
      this.issuer = `https://cognito-idp.${auth.userPool.env.region}.${stack.urlSuffix}/${auth.userPool.userPoolId}`;
      this.audiences = requiredAudiences(auth.clientIds, 'auth.clientIds: the app client ids whose tokens may connect');
    } else if (auth && 'issuer' in auth && auth.issuer !== undefined) {
      if (!Token.isUnresolved(auth.issuer) && !/^https:\/\/\S+$/.test(auth.issuer)) {
        throw new ConfigError(`ChatBackend: auth.issuer must be an https URL, got "${auth.issuer}"`);
      }
      this.issuer = auth.issuer;
      this.audiences = requiredAudiences(
        auth.audiences,
        'auth.audiences: the aud values (client ids) whose tokens may connect',
      );
      this.jwksUrl = auth.jwksUrl;
    } else if (auth) {
      throw new ConfigError(
        'ChatBackend: auth needs either userPool (an existing Cognito user pool) or issuer (an OIDC issuer)',
      );
    } else {
      this.userPool = this.createUserPool(scope, props);
      // SRP only: the password never leaves the device. OAuth (hosted UI, callback URLs) only when asked for.
      this.userPoolClient = this.userPool.addClient('AppClient', {
        generateSecret: false,
        authFlows: { userSrp: true },
        ...(props.oAuth ? { oAuth: props.oAuth } : { disableOAuth: true }),
        preventUserExistenceErrors: true,
      });
      if (props.smokeTestClient) {
        // The smoke run and the guide's CLI sign in with plain USER_PASSWORD_AUTH, which the apps' client refuses.
        this.smokeTestClient = this.userPool.addClient('SmokeTestClient', {
          generateSecret: false,
          authFlows: { userPassword: true },
          disableOAuth: true,
          preventUserExistenceErrors: true,
        });
      }
      this.issuer = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${this.userPool.userPoolId}`;
      this.audiences = [this.userPoolClient, this.smokeTestClient].flatMap((c) => (c ? [c.userPoolClientId] : []));
    }
  }

  /** In the backend's scope: the logical ids stay those of earlier releases, so an upgrade keeps the pool and its users. */
  private createUserPool(scope: Construct, props: ChatIdentityProps): cognito.UserPool {
    const pool = new cognito.UserPool(scope, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: props.deletionProtection,
      ...(props.email ? { email: props.email } : {}),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(pool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional (TOTP) by product decision: a chat app must not lock users out; sessions are short-lived tokens.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Cognito Plus tier (threat protection) is billed per MAU; the Essentials tier with a strong password policy is the default, upgrade via featurePlan when needed.',
      },
    );
    return pool;
  }
}

/** At least one non-empty audience, or a synth-time error naming the prop. */
function requiredAudiences(audiences: readonly string[] | undefined, what: string): string[] {
  const given = (audiences ?? []).filter((a) => Token.isUnresolved(a) || a.trim().length > 0);
  if (given.length === 0)
    throw new ConfigError(`ChatBackend: ${what}. Required: without it any token of the issuer would be accepted.`);
  return given;
}
