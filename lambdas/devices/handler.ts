/**
 * Routes device_token (TeamTalk CID_LOGIN_REQ_DEVICETOKEN) and device_token_remove: registers a push token for the
 * caller (taking it from any other user) or unregisters one of the caller's (sign-out).
 */
import { DeviceTokenRemoveSchema, DeviceTokenSchema } from '../../core/domain/requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { registerDeviceToken } from '../../core/usecases/device-tokens.js';

export function createDevicesHandler(runtime: Runtime) {
  return createRequestHandler(runtime, {
    device_token: request({
      schema: DeviceTokenSchema,
      run: async (rt, caller, r) => {
        await registerDeviceToken(rt, caller.userId, { token: r.token, platform: r.platform });
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
