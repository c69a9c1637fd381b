/**
 * Routes device_token (TeamTalk CID_LOGIN_REQ_DEVICETOKEN), device_token_verify and device_token_remove: registers a
 * push token for the caller (or challenges the device when another user holds it), gives it to the caller that
 * answers the challenge, or unregisters the caller's (sign-out: a token, an install's, or all). core/usecases/device-tokens.ts has the rule.
 */
import { DeviceTokenRemoveSchema, DeviceTokenSchema, DeviceTokenVerifySchema } from '../../core/domain/requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import { deviceTokenTable, presenceTable, rateLimitTable } from '../../core/compose/dynamo.js';
import { eventBus } from '../../core/compose/events.js';
import type { Runtime } from '../../core/runtime.js';
import { registerDeviceToken, removeDeviceTokens, verifyDeviceToken } from '../../core/usecases/device-tokens.js';

export type DevicesHandlerPorts = Pick<
  Runtime,
  'config' | 'clock' | 'gateway' | 'rateLimits' | 'deviceTokens' | 'presence' | 'pushChallenges'
>;

/** DynamoDB (DeviceTokens, Presence, RateLimits), @connections, and EventBridge for the challenge pushes: no S3. */
export function devicesHandlerPorts(adapters: Adapters): DevicesHandlerPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    rateLimits: rateLimitTable(db, config),
    deviceTokens: deviceTokenTable(db, config),
    presence: presenceTable(db, config),
    pushChallenges: eventBus(adapters),
  };
}

export function createDevicesHandler(runtime: DevicesHandlerPorts) {
  return createRequestHandler(runtime, {
    device_token: request({
      schema: DeviceTokenSchema,
      run: (rt, caller, r) =>
        registerDeviceToken(rt, caller.userId, {
          token: r.token,
          platform: r.platform,
          ...(r.device_id === undefined ? {} : { deviceId: r.device_id }),
        }),
    }),
    device_token_verify: request({
      schema: DeviceTokenVerifySchema,
      run: async (rt, caller, r) => {
        await verifyDeviceToken(rt, caller.userId, r);
        return {};
      },
    }),
    device_token_remove: request({
      schema: DeviceTokenRemoveSchema,
      run: async (rt, caller, r) => {
        const removal =
          r.token !== undefined
            ? { token: r.token }
            : r.device_id !== undefined
              ? { deviceId: r.device_id }
              : { all: true as const };
        await removeDeviceTokens(rt, caller.userId, removal);
        return {};
      },
    }),
  });
}
