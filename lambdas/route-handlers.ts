/**
 * The handler factory of every function behind a WebSocket route (core/routes.ts names the functions): local mode,
 * the end-to-end tests and the fuzzing suite build the very handlers the stack deploys from this one table.
 */
import type { FunctionId } from '../core/routes.js';
import type { Runtime } from '../core/runtime.js';
import type { WebSocketEvent, WebSocketResult } from '../core/websocket-event.js';
import { createAckHandler } from './ack/handler.js';
import { createAttachmentsHandler } from './attachments/handler.js';
import { createConnectHandler } from './connect/handler.js';
import { createDefaultHandler } from './default/handler.js';
import { createDevicesHandler } from './devices/handler.js';
import { createGroupsHandler } from './groups/handler.js';
import { createSendHandler } from './send/handler.js';
import { createSyncHandler } from './sync/handler.js';

export type RouteFunctionId = Exclude<FunctionId, 'authorizer' | 'sweeper'>;
export type RouteHandler = (event: WebSocketEvent, context?: import('aws-lambda').Context) => Promise<WebSocketResult>;

export const ROUTE_HANDLER_FACTORIES: Readonly<Record<RouteFunctionId, (runtime: Runtime) => RouteHandler>> = {
  connect: createConnectHandler,
  send: createSendHandler,
  ack: createAckHandler,
  sync: createSyncHandler,
  groups: createGroupsHandler,
  devices: createDevicesHandler,
  default: createDefaultHandler,
  attachments: createAttachmentsHandler,
};
