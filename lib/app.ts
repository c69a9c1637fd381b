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
 */
import { App, Duration, RemovalPolicy, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { API_GATEWAY_LOGS_ROLE_MODES, type ApiGatewayLogsRoleMode } from './api-gateway-logs-role.js';
import type { ChatBackendProps } from './chat-backend.js';
import { LOG_LEVELS, type ChatLogLevel } from './functions.js';
import { TeamTalkStack } from './stack.js';

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
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value.trim();
}

/** A boolean context value: `true`/`false` from cdk.json, or the strings from `-c key=true`. */
function optionalBoolean(app: App, key: string): boolean | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw new Error(`context ${key} must be true or false, got "${String(value)}"`);
}

/** A positive whole number context value (a number in cdk.json, a string from `-c key=30`). */
function optionalPositiveInteger(app: App, key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`context ${key} must be a positive whole number, got "${String(value)}"`);
  return n;
}


/** Turns the app's context into ChatBackend props. */
export function backendPropsFromContext(app: App): ChatBackendProps {
  const issuer = optionalString(app, 'oidcIssuer');
  const audience = optionalString(app, 'oidcAudience');
  const jwksUrl = optionalString(app, 'oidcJwksUrl');
  if (!issuer && (audience || jwksUrl)) throw new Error('context oidcAudience/oidcJwksUrl need oidcIssuer');
  if (issuer && !/^https:\/\/\S+$/.test(issuer)) throw new Error(`context oidcIssuer must be an https URL, got "${issuer}"`);
  if (issuer && !audience) throw new Error('context oidcIssuer needs oidcAudience: the client id(s) whose tokens may connect');

  const removal = (optionalString(app, 'removalPolicy') ?? 'retain').toLowerCase();
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new Error(`context removalPolicy must be "retain" or "destroy", got "${removal}"`);
  }
  const logLevel = optionalString(app, 'logLevel')?.toUpperCase();
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new Error(`context logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const alarmEmail = optionalString(app, 'alarmEmail');
  const tracing = optionalBoolean(app, 'tracing');
  const sourceMaps = optionalBoolean(app, 'sourceMaps');
  const pushIncludesBody = optionalBoolean(app, 'pushIncludesBody');
  const retentionDays = optionalPositiveInteger(app, 'messageRetentionDays');
  const logsRole = optionalString(app, 'apiGatewayLogsRole');
  if (logsRole !== undefined && !(API_GATEWAY_LOGS_ROLE_MODES as readonly string[]).includes(logsRole)) {
    throw new Error(`context apiGatewayLogsRole must be one of ${API_GATEWAY_LOGS_ROLE_MODES.join(', ')}, got "${logsRole}"`);
  }
  return {
    removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    ...(logLevel ? { logLevel: logLevel as ChatLogLevel } : {}),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(tracing !== undefined ? { tracing } : {}),
    ...(sourceMaps !== undefined ? { sourceMaps } : {}),
    ...(pushIncludesBody !== undefined ? { pushIncludesBody } : {}),
    ...(retentionDays !== undefined ? { messageRetention: Duration.days(retentionDays) } : {}),
    ...(logsRole !== undefined ? { apiGatewayLogsRole: logsRole as ApiGatewayLogsRoleMode } : {}),
    ...(issuer
      ? {
          auth: {
            issuer,
            ...(audience ? { audiences: audience.split(',').map((a) => a.trim()).filter((a) => a.length > 0) } : {}),
            ...(jwksUrl ? { jwksUrl } : {}),
          },
        }
      : {}),
  };
}

export function createApp(props: AppProps = {}): CreatedApp {
  const app = new App(props);
  const stack = new TeamTalkStack(app, optionalString(app, 'stackName') ?? DEFAULT_STACK_NAME, {
    backend: backendPropsFromContext(app),
  });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}
