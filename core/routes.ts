/**
 * The WebSocket API's routes and the function serving each: one table for the CDK stack and the local emulator, so
 * both route the same actions to the same handlers. A route key is a frame's `action` (route selection
 * `$request.body.action`); anything else goes to $default.
 */

import type { ClientAction } from '../protocol/frames.js';

/** The Lambda functions of the stack (one per folder under lambdas/). */
export const FUNCTION_IDS = [
  'authorizer',
  'connect',
  'send',
  'ack',
  'sync',
  'groups',
  'devices',
  'default',
  'sweeper',
  'attachments',
  'blocks',
  'reports',
  'exports',
  'account',
  'account-jobs',
  'presence',
  'presence-jobs',
  'edits',
  'typing',
] as const;

export type FunctionId = (typeof FUNCTION_IDS)[number];

/** API Gateway's own route keys. */
export const CONNECT_ROUTE = '$connect';
export const DISCONNECT_ROUTE = '$disconnect';
export const DEFAULT_ROUTE = '$default';

/**
 * Actions with a route of their own, and the function behind each: every client action of the protocol but
 * `heartbeat`, which $default answers (it needs no table).
 */
export const ACTION_ROUTES = {
  msg_data: 'send',
  msg_data_ack: 'ack',
  msg_list: 'sync',
  latest_msg_id: 'sync',
  msg_by_ids: 'sync',
  unread_cnt: 'sync',
  recent_sessions: 'sync',
  msg_read_ack: 'sync',
  remove_session: 'sync',
  group_create: 'groups',
  group_change_member: 'groups',
  group_list: 'groups',
  group_info: 'groups',
  device_token: 'devices',
  device_token_verify: 'devices',
  device_token_remove: 'devices',
  session_mute: 'groups',
  attachment_upload: 'attachments',
  attachment_url: 'attachments',
  user_block: 'blocks',
  user_unblock: 'blocks',
  block_list: 'blocks',
  report: 'reports',
  account_export: 'reports',
  account_delete: 'account',
  users_stat: 'presence',
  presence_subscribe: 'presence',
  presence_set: 'presence',
  typing: 'typing',
  msg_recall: 'edits',
  msg_edit: 'edits',
} as const satisfies Record<Exclude<ClientAction, 'heartbeat'>, FunctionId>;

export type RoutedAction = keyof typeof ACTION_ROUTES;

/**
 * Every route key of the API and the function behind it: API Gateway's own three (`$connect` behind the token
 * authorizer) and one per action.
 */
export const ROUTES = {
  [CONNECT_ROUTE]: 'connect',
  [DISCONNECT_ROUTE]: 'connect',
  [DEFAULT_ROUTE]: 'default',
  ...ACTION_ROUTES,
} as const satisfies Record<string, FunctionId>;

export type RouteKey = keyof typeof ROUTES;
