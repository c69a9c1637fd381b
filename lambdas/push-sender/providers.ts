/**
 * The push providers of a deployed sender, built once per Lambda instance from Secrets Manager: only the secrets'
 * ARNs are in the function's environment (nothing secret in the template), and each provider exists only when its
 * settings are there. Secrets: FCM — the service-account key file's JSON; APNs — the .p8 key's text; Web Push — JSON
 * {"publicKey","privateKey"} as `web-push generate-vapid-keys --json` prints it.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import { ApnsSender } from '../../core/push-providers/apns.js';
import type { ProviderTokenStore } from '../../core/ports/push.js';
import { FcmSender, type FcmServiceAccount } from '../../core/push-providers/fcm.js';
import type { PushSenderPorts } from '../../core/usecases/send-pushes.js';
import { WebPushSender, type VapidKeys } from '../../core/push-providers/web-push.js';

/** Environment of the push sender's provider settings (lib/push-notifications.ts sets them). */
export const PUSH_ENV = {
  fcmSecret: 'FCM_SERVICE_ACCOUNT_SECRET',
  apnsKeySecret: 'APNS_KEY_SECRET',
  apnsKeyId: 'APNS_KEY_ID',
  apnsTeamId: 'APNS_TEAM_ID',
  apnsBundleId: 'APNS_BUNDLE_ID',
  apnsProduction: 'APNS_PRODUCTION',
  vapidSecret: 'WEB_PUSH_VAPID_SECRET',
  vapidSubject: 'WEB_PUSH_SUBJECT',
} as const;

export async function providersFromSecrets(
  env: NodeJS.ProcessEnv,
  clock: Clock,
  sharedTokens: ProviderTokenStore,
  webPushEndpointAllowlist: readonly string[],
): Promise<PushSenderPorts['providers']> {
  const client = new SecretsManagerClient({ region: env['AWS_REGION'] });
  const secret = async (id: string): Promise<string> => {
    const value = (await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
    if (!value) throw new ConfigError(`secret ${id} has no SecretString`);
    return value;
  };
  const providers: { -readonly [K in keyof PushSenderPorts['providers']]: PushSenderPorts['providers'][K] } = {};
  const fcmSecret = env[PUSH_ENV.fcmSecret];
  if (fcmSecret)
    providers.fcm = new FcmSender({ serviceAccount: JSON.parse(await secret(fcmSecret)) as FcmServiceAccount, clock });
  const apnsSecret = env[PUSH_ENV.apnsKeySecret];
  if (apnsSecret) {
    providers.apns = new ApnsSender({
      keyId: required(env, PUSH_ENV.apnsKeyId),
      teamId: required(env, PUSH_ENV.apnsTeamId),
      bundleId: required(env, PUSH_ENV.apnsBundleId),
      privateKey: await secret(apnsSecret),
      production: env[PUSH_ENV.apnsProduction] === 'true',
      clock,
      sharedTokens,
    });
  }
  const vapidSecret = env[PUSH_ENV.vapidSecret];
  if (vapidSecret) {
    const vapid = JSON.parse(await secret(vapidSecret)) as VapidKeys;
    providers.webpush = new WebPushSender({
      vapid,
      subject: required(env, PUSH_ENV.vapidSubject),
      clock,
      endpointAllowlist: webPushEndpointAllowlist,
    });
  }
  return providers;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`${name} is not set`);
  return value;
}
