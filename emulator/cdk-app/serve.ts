/**
 * Serves a synthesized CDK app's WebSocket API with the emulator (../server.ts): its routes, two-way routes,
 * route selection expression, stage and $connect authorizer from the template, each route's Lambda function run
 * from its staged asset in its own processes (functions.ts) with its own environment, and its DynamoDB tables
 * created in DynamoDB Local. `@connections` answers on the same port over HTTP and HTTPS (a certificate generated
 * at start, trusted by the functions' processes), so a handler that builds its callback endpoint from the event
 * as AWS's samples do, `https://${domainName}/${stage}`, reaches it; `execute-api` URLs of this API in the
 * functions' environment (a stage's callbackUrl, say) are pointed at it too.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import selfsigned from 'selfsigned';
import { LOCAL_AWS_ENV } from '../dynamodb-local.js';
import type { EmulatorLimits } from '../limits.js';
import { newApiId } from '../ids.js';
import { startEmulator, DEFAULT_PORT, type Emulator, type InvocationRecord } from '../server.js';
import type { TlsCertificate } from '../transport.js';
import type { EmulatorLogger, RouteHandler } from '../types.js';
import { readAssembly } from './assembly.js';
import { FunctionPool } from './functions.js';
import { createAppTables } from './tables.js';
import { webSocketAppModel, type FunctionSpec, type WebSocketAppModel } from './template.js';

export interface CdkAppServerOptions {
  /** The synthesized app: a cloud assembly folder (`cdk.out`). */
  readonly app: string;
  /** @default 8787 */
  readonly port?: number;
  /** DynamoDB endpoint for the tables, or a function that starts one (called once the port is taken). */
  readonly dynamoEndpoint: string | (() => Promise<string>);
  /** Prefix of the local table names. @default '' */
  readonly tablePrefix?: string;
  /** Which WebSocket API (logical id), when the app has several. */
  readonly api?: string;
  /** Which stage, when the API has several. @default - the first */
  readonly stage?: string;
  /** A folder of its own for the generated certificate and inline code (removed by the caller). */
  readonly workDirectory: string;
  /** Execution environments per function at most. @default 10 */
  readonly maxInstancesPerFunction?: number;
  readonly limits?: Partial<EmulatorLimits>;
  readonly logger?: EmulatorLogger;
  readonly onInvocation?: (record: InvocationRecord) => void;
  /** Lines the functions print. @default - the console, prefixed with the function's name */
  readonly functionOutput?: (functionName: string, line: string) => void;
}

export interface CdkAppServer {
  readonly model: WebSocketAppModel;
  readonly emulator: Emulator;
  /** The WebSocket URL with the stage path, as AWS's stage URL (`ws://`; `wss://` works on the same port). */
  readonly url: string;
  /** The @connections endpoint of the stage. */
  readonly callbackUrl: string;
  readonly dynamoEndpoint: string;
  stop(): Promise<void>;
}

export async function serveCdkApp(options: CdkAppServerOptions): Promise<CdkAppServer> {
  const model = webSocketAppModel(await readAssembly(options.app), {
    apiId: newApiId(),
    ...(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }),
    ...(options.api === undefined ? {} : { apiLogicalId: options.api }),
    ...(options.stage === undefined ? {} : { stage: options.stage }),
  });
  await mkdir(options.workDirectory, { recursive: true });
  const tls = await certificate();
  const certificateFile = join(options.workDirectory, 'local-ca.pem');
  await writeFile(certificateFile, tls.cert);

  let port = 0;
  let dynamoEndpoint = '';
  const pools = new Map<string, FunctionPool>();
  for (const [logicalId, spec] of model.functions) {
    const codeDirectory = await codeFolder(spec, options.workDirectory);
    const environment = () =>
      functionEnvironment(spec, model, { port, dynamoEndpoint, certificateFile, codeDirectory });
    pools.set(
      logicalId,
      new FunctionPool({
        spec,
        environment,
        codeDirectory,
        maxInstances: options.maxInstancesPerFunction ?? 10,
        ...(options.functionOutput ? { output: options.functionOutput } : {}),
      }),
    );
  }
  const stopPools = () => Promise.all([...pools.values()].map((pool) => pool.stop()));
  const emulator = await startEmulator({
    port: options.port ?? DEFAULT_PORT,
    stage: model.stage,
    apiId: model.apiId,
    region: model.region,
    accountId: model.accountId,
    routeSelectionExpression: model.routeSelectionExpression,
    routes: Object.fromEntries(
      model.routes.map((route) => [route.routeKey, invoker(pools.get(route.functionLogicalId)!)]),
    ),
    twoWayRoutes: model.routes.filter((route) => route.twoWay).map((route) => route.routeKey),
    ...(model.authorizer
      ? {
          authorizer: (event, context) =>
            pools
              .get(model.authorizer!.functionLogicalId)!
              .invoke(event, context) as Promise<APIGatewayAuthorizerResult>,
          identitySources: model.authorizer.identitySources,
        }
      : {}),
    tls,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.onInvocation === undefined ? {} : { onInvocation: options.onInvocation }),
  });
  port = emulator.port;
  try {
    dynamoEndpoint =
      typeof options.dynamoEndpoint === 'string' ? options.dynamoEndpoint : await options.dynamoEndpoint();
    await createTables(model, dynamoEndpoint);
  } catch (error) {
    await emulator.stop();
    await stopPools();
    throw error;
  }
  return {
    model,
    emulator,
    url: `${emulator.url}/${model.stage}`,
    callbackUrl: `${emulator.httpUrl.replace('http:', 'https:')}/${model.stage}`,
    dynamoEndpoint,
    stop: async () => {
      await emulator.stop(); // clients closed, their $disconnects and every invocation finished
      await stopPools();
    },
  };
}

function invoker(pool: FunctionPool): RouteHandler {
  return (event, context) => pool.invoke(event, context) as ReturnType<RouteHandler>;
}

async function createTables(model: WebSocketAppModel, endpoint: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: model.region,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  try {
    await createAppTables(client, model.tables);
  } finally {
    client.destroy();
  }
}

/** The staged asset folder, or a folder with the inline code as index.js. */
async function codeFolder(spec: FunctionSpec, workDirectory: string): Promise<string> {
  if (spec.codeDirectory) return spec.codeDirectory;
  const folder = join(workDirectory, 'inline', spec.logicalId);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'index.js'), spec.inlineCode ?? '');
  return folder;
}

/** The node_modules folder the emulator's own AWS SDK is in (Lambda's runtime provides the SDK to functions). */
const sdkModules = (() => {
  const entry = createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb');
  return entry.slice(0, entry.lastIndexOf(`${sep}node_modules${sep}`) + `${sep}node_modules`.length);
})();

/**
 * A function's environment as Lambda builds it: its own variables, then the reserved ones Lambda sets (region,
 * credentials, handler, task root), then the local wiring: DynamoDB's endpoint, the certificate to trust, the SDK.
 * This API's execute-api host in any value points at the emulator instead.
 */
function functionEnvironment(
  spec: FunctionSpec,
  model: WebSocketAppModel,
  local: { port: number; dynamoEndpoint: string; certificateFile: string; codeDirectory: string },
): Record<string, string> {
  const awsHost = `${model.apiId}.execute-api.${model.region}.amazonaws.com`;
  const own = Object.fromEntries(
    Object.entries(spec.environment).map(([name, value]) => [
      name,
      value.replaceAll(awsHost, `127.0.0.1:${local.port}`),
    ]),
  );
  return {
    ...own,
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: local.codeDirectory,
    LAMBDA_RUNTIME_DIR: dirname(new URL(import.meta.url).pathname),
    _HANDLER: spec.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${spec.logicalId}`,
    AWS_REGION: model.region,
    AWS_DEFAULT_REGION: model.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamoEndpoint,
    NODE_EXTRA_CA_CERTS: local.certificateFile,
    NODE_PATH: sdkModules,
    // The SDK's notice that it will need Node 22: the functions run on the emulator's Node, not the runtime's.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** A self-signed certificate for 127.0.0.1 and localhost, made at each start (nothing is committed). */
async function certificate(): Promise<TlsCertificate> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'teamtalk-local' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  } as Parameters<typeof selfsigned.generate>[1]);
  return { key: pems.private, cert: pems.cert };
}
