/**
 * The package's public API: embed the chat backend in your own CDK app.
 *
 * ```ts
 * import { ChatBackend } from 'teamtalk-serverless';
 * const chat = new ChatBackend(this, 'Chat', { auth: { issuer: 'https://login.example.com' }, alarmEmail: 'ops@example.com' });
 * ```
 */
export {
  ChatBackend,
  LAMBDA_RUNTIME,
  type ApiGatewayLogsRoleMode,
  type ChatBackendAuth,
  type ChatBackendProps,
  type ContentCheckProps,
  type ChatLogLevel,
  type ExistingUserPoolAuthProps,
  type OidcAuthProps,
} from './chat-backend.js';
export { DEFAULT_ALARM_THRESHOLDS, type AlarmThresholds } from './monitoring.js';
export {
  PushNotifications,
  type ApnsPushProps,
  type ChatPushProps,
  type FcmPushProps,
  type WebPushProps,
} from './push-notifications.js';
export { TeamTalkStack, type TeamTalkStackProps } from './stack.js';
export { FUNCTION_ACCESS, FUNCTION_IDS, type FunctionAccess, type FunctionId } from './grants.js';
export type { TableId } from '../core/store/schema.js';
export {
  PUSH_EVENT_SOURCE,
  UNDELIVERED_DETAIL_TYPE,
  type DeviceToken,
  type UndeliveredMessageDetail,
} from '../core/domain/push.js';
export { METRIC, METRICS_NAMESPACE, PUSH_METRIC, SERVICE_NAME } from '../core/metric-names.js';
