/**
 * teamtalk-local: a local API Gateway WebSocket API for any CDK app. The `teamtalk-local` command (cdk-app/cli.ts)
 * serves a synthesized app; this module is the same machinery for a program that wires its own handlers, as
 * teamtalk-serverless's local mode does: the emulator, the CDK app server, DynamoDB Local, and what makes a local
 * stack stop cleanly (the data-folder lock, the signals, the janitor).
 */

// The API Gateway WebSocket API.
export {
  startEmulator,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type ConnectionSnapshot,
  type Emulator,
  type EmulatorOptions,
  type HttpRoutes,
  type InvocationRecord,
} from './server.js';
export type { ApiInfo } from './events.js';
export { AWS_LIMITS, type EmulatorLimits } from './limits.js';
export { CONNECT_ROUTE, DEFAULT_ROUTE, DISCONNECT_ROUTE, UnsupportedSelectionExpressionError } from './routes.js';
export type { TlsCertificate } from './transport.js';
export type {
  AuthorizerHandler,
  EmulatorLogger,
  IntegrationAuthorizerContext,
  RouteHandler,
  RouteResult,
  WebSocketEvent,
  WebSocketRequestContext,
} from './types.js';
export { containStrayErrors, StrayHandlerError, type StrayErrorLog } from './containment.js';

// A synthesized CDK app's WebSocket API, its functions and tables.
export { serveCdkApp, type CdkAppServer, type CdkAppServerOptions } from './cdk-app/serve.js';
export { AssemblyError } from './cdk-app/assembly.js';
export { ModelError, type WebSocketAppModel } from './cdk-app/template.js';

// DynamoDB Local.
export {
  startDynamoDbLocal,
  LOCAL_AWS_ENV,
  CorruptDatabaseError,
  DynamoDbLocalStartError,
  JavaMissingError,
  type DynamoDbLocal,
  type DynamoDbLocalExit,
  type DynamoDbLocalOptions,
} from './dynamodb-local.js';

// Stopping cleanly, however the process ends.
export { lockDataFolder, DataFolderInUseError, type DataLock, type LockOwner } from './process/data-lock.js';
export { janitor, type Janitor } from './process/janitor.js';
export { stopOnSignals, type Shutdown } from './process/shutdown.js';
