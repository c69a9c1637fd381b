/**
 * Every function behind a WebSocket route (core/routes.ts names them): how its ports are composed and its handler on
 * them. Local mode composes each function from this one table the way its Lambda entry (lambdas/<fn>/entry.ts) does;
 * the end-to-end tests and the fuzzing suite build the very handlers the stack deploys from it. Importing it builds
 * nothing.
 */
import type { Context } from 'aws-lambda';
import type { Adapters } from '../core/compose/adapters.js';
import type { FunctionId } from '../core/routes.js';
import type { WebSocketEvent, WebSocketResult } from '../core/websocket-event.js';
import { accountHandlerPorts, createAccountHandler } from './account/handler.js';
import { ackHandlerPorts, createAckHandler } from './ack/handler.js';
import { attachmentsHandlerPorts, createAttachmentsHandler } from './attachments/handler.js';
import { blocksHandlerPorts, createBlocksHandler } from './blocks/handler.js';
import { createPresenceHandler, presenceHandlerPorts } from './presence/handler.js';
import { connectHandlerPorts, createConnectHandler } from './connect/handler.js';
import { createDefaultHandler, defaultHandlerPorts } from './default/handler.js';
import { createDevicesHandler, devicesHandlerPorts } from './devices/handler.js';
import { createEditsHandler, editsHandlerPorts } from './edits/handler.js';
import { createGroupsHandler, groupsHandlerPorts } from './groups/handler.js';
import { createReportsHandler, reportsHandlerPorts } from './reports/handler.js';
import { createSendHandler, sendHandlerPorts } from './send/handler.js';
import { createSyncHandler, syncHandlerPorts } from './sync/handler.js';
import { createTypingHandler, typingHandlerPorts } from './typing/handler.js';

export type RouteFunctionId = Exclude<
  FunctionId,
  'authorizer' | 'sweeper' | 'exports' | 'account-jobs' | 'presence-jobs'
>;
export type RouteHandler = (event: WebSocketEvent, context?: Context) => Promise<WebSocketResult>;

/** A function behind routes: the ports its entry composes, and its handler on them. */
export interface RouteFunction<P> {
  readonly ports: (adapters: Adapters) => P;
  readonly create: (ports: P) => RouteHandler;
}

const routeFunction = <P>(ports: (adapters: Adapters) => P, create: (ports: P) => RouteHandler): RouteFunction<P> => ({
  ports,
  create,
});

export const ROUTE_FUNCTIONS = {
  connect: routeFunction(connectHandlerPorts, createConnectHandler),
  send: routeFunction(sendHandlerPorts, createSendHandler),
  ack: routeFunction(ackHandlerPorts, createAckHandler),
  sync: routeFunction(syncHandlerPorts, createSyncHandler),
  groups: routeFunction(groupsHandlerPorts, createGroupsHandler),
  devices: routeFunction(devicesHandlerPorts, createDevicesHandler),
  default: routeFunction(defaultHandlerPorts, createDefaultHandler),
  attachments: routeFunction(attachmentsHandlerPorts, createAttachmentsHandler),
  blocks: routeFunction(blocksHandlerPorts, createBlocksHandler),
  reports: routeFunction(reportsHandlerPorts, createReportsHandler),
  account: routeFunction(accountHandlerPorts, createAccountHandler),
  presence: routeFunction(presenceHandlerPorts, createPresenceHandler),
  edits: routeFunction(editsHandlerPorts, createEditsHandler),
  typing: routeFunction(typingHandlerPorts, createTypingHandler),
} as const satisfies Record<RouteFunctionId, unknown>;

/** The ports of a route function, as its entry composes them. */
export type RouteFunctionPorts<F extends RouteFunctionId> = ReturnType<(typeof ROUTE_FUNCTIONS)[F]['ports']>;
