/**
 * Routes device_token (TeamTalk CID_LOGIN_REQ_DEVICETOKEN), device_token_verify and device_token_remove: registers a
 * push token for the caller (or challenges the device when another user holds it), gives it to the caller that
 * answers the challenge, or unregisters one of the caller's (sign-out). core/usecases/device-tokens.ts has the rule.
 */
import { DeviceTokenRemoveSchema, DeviceTokenSchema, DeviceTokenVerifySchema } from '../../core/domain/requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { registerDeviceToken, verifyDeviceToken } from '../../core/usecases/device-tokens.js';

export function createDevicesHandler(runtime: Runtime) {
  return createRequestHandler(runtime, {
    device_token: request({
      schema: DeviceTokenSchema,
      run: (rt, caller, r) => registerDeviceToken(rt, caller.userId, { token: r.token, platform: r.platform }),
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
        await rt.deviceTokens.unregister(caller.userId, r.token);
        return {};
      },
    }),
  });
}

export const handler = createDevicesHandler(createRuntime());
