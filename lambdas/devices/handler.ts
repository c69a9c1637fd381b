/** Route device_token (TeamTalk CID_LOGIN_REQ_DEVICETOKEN): stores a push token for the caller. */
import { DeviceTokenSchema } from '../../core/domain/requests.js';
import { createRequestHandler, request } from '../../core/request-handler.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';

export function createDevicesHandler(runtime: Runtime) {
  return createRequestHandler(runtime, {
    device_token: request({
      schema: DeviceTokenSchema,
      run: async (rt, caller, r) => {
        await rt.deviceTokens.register(caller.userId, { token: r.token, platform: r.platform }, rt.clock.now());
        return {};
      },
    }),
  });
}

export const handler = createDevicesHandler(createRuntime());
