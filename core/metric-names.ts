/**
 * The names the handlers publish their metrics under and the stack's dashboard and alarms read, in a module of their
 * own: the construct (lib/) imports them at synth time without loading the handlers' Powertools clients, and the
 * package's published types stay free of Lambda's.
 */

/** The service name where nothing sets one (local mode, tests); on AWS the stack sets its own. */
export const SERVICE_NAME = 'teamtalk-serverless';
export const METRICS_NAMESPACE = 'TeamTalkServerless';

/** The custom metrics, by name: the dashboard and the alarms use these names. */
export const METRIC = {
  messagesStored: 'MessagesStored',
  deliveries: 'Deliveries',
  redeliveries: 'Redeliveries',
  deliveriesGivenUp: 'DeliveriesGivenUp',
  goneConnections: 'GoneConnections',
  /** Posts that failed after retries (429 LimitExceeded, timeouts): left pending for the sweeper. */
  deliveriesDeferred: 'DeliveriesDeferred',
  /** Time from a delivery to its msg_data_ack. */
  ackLatency: 'AckLatency',
  offlineEvents: 'OfflineEvents',
  /** Presence changes whose subscribers were more than one announcement reaches (MAX_PRESENCE_ANNOUNCEMENTS). */
  presenceAnnouncementsCapped: 'PresenceAnnouncementsCapped',
} as const;

/** The push sender's metrics: on the dashboard only when ChatBackend's `push` is set (lib/push-notifications.ts). */
export const PUSH_METRIC = {
  /** Pushes a provider (FCM, APNs, Web Push) accepted. */
  pushesSent: 'PushesSent',
  /** Pushes given up: refused, or still throttled/unavailable after the tries allowed. */
  pushesFailed: 'PushesFailed',
  /** Device tokens removed because their provider said they are gone. */
  pushTokensRemoved: 'PushTokensRemoved',
  /** Receivers not pushed: a push of the conversation reached them less than a collapse window ago. */
  pushesCollapsed: 'PushesCollapsed',
  /** Receivers not pushed: the sender's push budget for the minute was spent. */
  pushesOverBudget: 'PushesOverBudget',
} as const;
