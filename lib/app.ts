/**
 * Builds the CDK app: the stack from context values, with the cdk-nag AwsSolutions checks registered.
 * bin/app.ts and test/stack.test.ts both call createApp, so the test exercises exactly what `cdk synth` runs.
 *
 * Context keys (`npx cdk deploy -c key=value`):
 * - `oidcIssuer`:    accept tokens from this OIDC issuer instead of creating a Cognito user pool.
 * - `oidcAudience`:  accepted audience(s), comma-separated; required with oidcIssuer.
 * - `oidcJwksUrl`:   JWKS URL when it is not `${oidcIssuer}/.well-known/jwks.json` (only with oidcIssuer).
 * - `removalPolicy`: `retain` (default) or `destroy`, for tables, user pool, log groups and the alarm topic's key.
 * - `stackName`:     stack name (default `TeamTalkServerless`).
 * - `alarmEmail`:    send the alarms to this address (creates an encrypted SNS topic; confirm the subscription mail).
 * - `logLevel`:      DEBUG, INFO (default), WARN or ERROR: the handlers' POWERTOOLS_LOG_LEVEL.
 * - `tracing`:       `true` for active X-Ray tracing on every function (default `false`).
 * - `sourceMaps`:    `true` to apply the bundles' source maps to stack traces (default `false`: faster cold starts).
 * - `messageRetentionDays`: keep messages this many days (DynamoDB TTL); default: for ever.
 * - `pushIncludesBody`: `true` to put msg_data in the push hook's events (default `false`).
 * - `apiGatewayLogsRole`: `ifMissing` (default), `overwrite` or `leave`: the region's API Gateway CloudWatch Logs
 *   role (see ChatBackendProps.apiGatewayLogsRole).
 * - `monitoring`:    `full` (default) or `minimal` (fewer alarms, no dashboard: a smaller fixed monthly cost).
 * - `stageRateLimit`, `stageBurstLimit`: the WebSocket stage's throttle (default 1000 / 2000 requests a second).
 * - `smokeTestClient`: `true` adds an app client with USER_PASSWORD_AUTH for `npm run smoke` (output SmokeTestClientId).
 * - `sesFromEmail`, `sesRegion`: the user pool's mail through SES from this verified address (region: the stack's).
 * - push (lib/push-notifications.ts), each secret by name or ARN: `pushFcmSecret`; `pushApnsSecret` with
 *   `pushApnsKeyId`, `pushApnsTeamId`, `pushApnsBundleId` and optionally `pushApnsProduction` (default `true`);
 *   `pushWebPushSecret` with `pushWebPushSubject`.
 */
import { App, Aws, Duration, RemovalPolicy, Validations, type AppProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { API_GATEWAY_LOGS_ROLE_MODES, type ApiGatewayLogsRoleMode } from './api-gateway-logs-role.js';
import type { ChatBackendProps } from './chat-backend.js';
import { LOG_LEVELS, type ChatLogLevel } from './functions.js';
import { MONITORING_LEVELS, type MonitoringLevel } from './monitoring.js';
import type { ChatPushProps } from './push-notifications.js';
import { DEFAULT_STAGE_THROTTLE } from './websocket-api.js';
import { TeamTalkStack } from './stack.js';
import { ConfigError } from '../core/errors.js';

export const DEFAULT_STACK_NAME = 'TeamTalkServerless';

export interface CreatedApp {
  readonly app: App;
  readonly stack: TeamTalkStack;
  /** The registered AwsSolutions pack; `nag.validateScope(app)` lists unacknowledged findings. */
  readonly nag: AwsSolutionsChecks;
}

function optionalString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`context ${key} must be a string`);
  return value.trim();
}

/** A boolean context value: `true`/`false` from cdk.json, or the strings from `-c key=true`. */
function optionalBoolean(app: App, key: string): boolean | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw new ConfigError(`context ${key} must be true or false, got "${String(value)}"`);
}

/** A positive whole number context value (a number in cdk.json, a string from `-c key=30`). */
function optionalPositiveInteger(app: App, key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(`context ${key} must be a positive whole number, got "${String(value)}"`);
  return n;
}

/** A secret by ARN (complete, or partial without the 6-character suffix) or by name. */
function secretOf(scope: Construct, id: string, nameOrArn: string): secretsmanager.ISecret {
  if (!nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretNameV2(scope, id, nameOrArn);
  if (!/^arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:\S+$/.test(nameOrArn))
    throw new ConfigError(`context: "${nameOrArn}" is not a Secrets Manager secret ARN`);
  return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, nameOrArn);
}

/** The `push` prop from the `push…` context keys, its secrets imported in `scope` (the stack). */
export function pushPropsFromContext(app: App, scope: Construct | undefined): ChatPushProps | undefined {
  const fcm = optionalString(app, 'pushFcmSecret');
  const apns = optionalString(app, 'pushApnsSecret');
  const apnsIds = {
    KeyId: optionalString(app, 'pushApnsKeyId'),
    TeamId: optionalString(app, 'pushApnsTeamId'),
    BundleId: optionalString(app, 'pushApnsBundleId'),
  };
  const production = optionalBoolean(app, 'pushApnsProduction');
  const webPush = optionalString(app, 'pushWebPushSecret');
  const subject = optionalString(app, 'pushWebPushSubject');
  if (!apns && (Object.values(apnsIds).some(Boolean) || production !== undefined))
    throw new ConfigError('context pushApnsKeyId/TeamId/BundleId/Production need pushApnsSecret');
  if (!webPush && subject) throw new ConfigError('context pushWebPushSubject needs pushWebPushSecret');
  if (!fcm && !apns && !webPush) return undefined;
  if (!scope) throw new ConfigError('push context keys need the stack to import their secrets in');
  const missing = Object.entries(apnsIds)
    .filter(([, value]) => !value)
    .map(([name]) => `pushApns${name}`);
  if (apns && missing.length > 0) throw new ConfigError(`context pushApnsSecret needs ${missing.join(', ')}`);
  if (webPush && !subject)
    throw new ConfigError('context pushWebPushSecret needs pushWebPushSubject (a mailto: or https: URL)');
  return {
    ...(fcm ? { fcm: { serviceAccountSecret: secretOf(scope, 'PushFcmSecret', fcm) } } : {}),
    ...(apns
      ? {
          apns: {
            signingKeySecret: secretOf(scope, 'PushApnsSecret', apns),
            keyId: apnsIds.KeyId!,
            teamId: apnsIds.TeamId!,
            bundleId: apnsIds.BundleId!,
            ...(production !== undefined ? { production } : {}),
          },
        }
      : {}),
    ...(webPush
      ? { webPush: { vapidKeysSecret: secretOf(scope, 'PushWebPushSecret', webPush), subject: subject! } }
      : {}),
  };
}

/** The stage throttle from `stageRateLimit` / `stageBurstLimit`, each defaulting to the construct's. */
function throttleFromContext(app: App): ChatBackendProps['throttle'] {
  const rateLimit = optionalPositiveInteger(app, 'stageRateLimit');
  const burstLimit = optionalPositiveInteger(app, 'stageBurstLimit');
  if (rateLimit === undefined && burstLimit === undefined) return undefined;
  return {
    rateLimit: rateLimit ?? DEFAULT_STAGE_THROTTLE.rateLimit,
    burstLimit: burstLimit ?? DEFAULT_STAGE_THROTTLE.burstLimit,
  };
}

/** The user pool's SES sender from `sesFromEmail` (and `sesRegion`, default the stack's region). */
function userPoolEmailFromContext(app: App): cognito.UserPoolEmail | undefined {
  const fromEmail = optionalString(app, 'sesFromEmail');
  const sesRegion = optionalString(app, 'sesRegion');
  if (!fromEmail && sesRegion) throw new ConfigError('context sesRegion needs sesFromEmail');
  return fromEmail ? cognito.UserPoolEmail.withSES({ fromEmail, sesRegion: sesRegion ?? Aws.REGION }) : undefined;
}

/** Turns the app's context into ChatBackend props; `scope` (the stack) holds what the props import (push secrets). */
export function backendPropsFromContext(app: App, scope?: Construct): ChatBackendProps {
  const issuer = optionalString(app, 'oidcIssuer');
  const audience = optionalString(app, 'oidcAudience');
  const jwksUrl = optionalString(app, 'oidcJwksUrl');
  if (!issuer && (audience || jwksUrl)) throw new ConfigError('context oidcAudience/oidcJwksUrl need oidcIssuer');
  if (issuer && !/^https:\/\/\S+$/.test(issuer))
    throw new ConfigError(`context oidcIssuer must be an https URL, got "${issuer}"`);
  if (issuer && !audience)
    throw new ConfigError('context oidcIssuer needs oidcAudience: the client id(s) whose tokens may connect');

  const removal = (optionalString(app, 'removalPolicy') ?? 'retain').toLowerCase();
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new ConfigError(`context removalPolicy must be "retain" or "destroy", got "${removal}"`);
  }
  const logLevel = optionalString(app, 'logLevel')?.toUpperCase();
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`context logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const alarmEmail = optionalString(app, 'alarmEmail');
  const tracing = optionalBoolean(app, 'tracing');
  const sourceMaps = optionalBoolean(app, 'sourceMaps');
  const pushIncludesBody = optionalBoolean(app, 'pushIncludesBody');
  const retentionDays = optionalPositiveInteger(app, 'messageRetentionDays');
  const logsRole = optionalString(app, 'apiGatewayLogsRole');
  if (logsRole !== undefined && !(API_GATEWAY_LOGS_ROLE_MODES as readonly string[]).includes(logsRole)) {
    throw new ConfigError(
      `context apiGatewayLogsRole must be one of ${API_GATEWAY_LOGS_ROLE_MODES.join(', ')}, got "${logsRole}"`,
    );
  }
  const monitoring = optionalString(app, 'monitoring');
  if (monitoring !== undefined && !(MONITORING_LEVELS as readonly string[]).includes(monitoring)) {
    throw new ConfigError(`context monitoring must be one of ${MONITORING_LEVELS.join(', ')}, got "${monitoring}"`);
  }
  const smokeTestClient = optionalBoolean(app, 'smokeTestClient');
  const throttle = throttleFromContext(app);
  const userPoolEmail = userPoolEmailFromContext(app);
  const push = pushPropsFromContext(app, scope);
  if (issuer && (smokeTestClient || userPoolEmail))
    throw new ConfigError(
      'context smokeTestClient and sesFromEmail are for the created user pool: not with oidcIssuer',
    );
  return {
    removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    ...(logLevel ? { logLevel: logLevel as ChatLogLevel } : {}),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(tracing !== undefined ? { tracing } : {}),
    ...(sourceMaps !== undefined ? { sourceMaps } : {}),
    ...(pushIncludesBody !== undefined ? { pushIncludesBody } : {}),
    ...(retentionDays !== undefined ? { messageRetention: Duration.days(retentionDays) } : {}),
    ...(logsRole !== undefined ? { apiGatewayLogsRole: logsRole as ApiGatewayLogsRoleMode } : {}),
    ...(monitoring !== undefined ? { monitoring: monitoring as MonitoringLevel } : {}),
    ...(smokeTestClient !== undefined ? { smokeTestClient } : {}),
    ...(throttle ? { throttle } : {}),
    ...(userPoolEmail ? { userPoolEmail } : {}),
    ...(push ? { push } : {}),
    ...(issuer
      ? {
          auth: {
            issuer,
            ...(audience
              ? {
                  audiences: audience
                    .split(',')
                    .map((a) => a.trim())
                    .filter((a) => a.length > 0),
                }
              : {}),
            ...(jwksUrl ? { jwksUrl } : {}),
          },
        }
      : {}),
  };
}

export function createApp(props: AppProps = {}): CreatedApp {
  const app = new App(props);
  const stack = new TeamTalkStack(app, optionalString(app, 'stackName') ?? DEFAULT_STACK_NAME, {
    backend: (scope) => backendPropsFromContext(app, scope),
  });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}
