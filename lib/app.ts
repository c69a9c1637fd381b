/**
 * Builds the CDK app: the stack from context values, with the cdk-nag AwsSolutions checks registered.
 * bin/app.ts and test/stack.test.ts both call createApp, so the test exercises exactly what `cdk synth` runs.
 *
 * Context keys (`npx cdk deploy -c key=value`):
 * - `oidcIssuer`:    accept tokens from this OIDC issuer instead of creating a Cognito user pool.
 * - `oidcAudience`:  accepted audience(s), comma-separated (only with oidcIssuer).
 * - `oidcJwksUrl`:   JWKS URL when it is not `${oidcIssuer}/.well-known/jwks.json` (only with oidcIssuer).
 * - `removalPolicy`: `retain` (default) or `destroy`, for tables, user pool and log groups.
 * - `stackName`:     stack name (default `TeamTalkServerless`).
 */
import { App, RemovalPolicy, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ChatBackendProps } from './chat-backend.js';
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

/** Turns the app's context into ChatBackend props. */
export function backendPropsFromContext(app: App): ChatBackendProps {
  const issuer = optionalString(app, 'oidcIssuer');
  const audience = optionalString(app, 'oidcAudience');
  const jwksUrl = optionalString(app, 'oidcJwksUrl');
  if (!issuer && (audience || jwksUrl)) throw new Error('context oidcAudience/oidcJwksUrl need oidcIssuer');
  if (issuer && !/^https:\/\/\S+$/.test(issuer)) throw new Error(`context oidcIssuer must be an https URL, got "${issuer}"`);

  const removal = (optionalString(app, 'removalPolicy') ?? 'retain').toLowerCase();
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new Error(`context removalPolicy must be "retain" or "destroy", got "${removal}"`);
  }
  return {
    removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
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
