/** The push sender's Lambda entry: its ports from the environment at init, its providers from their secrets at the first batch. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { createPushSenderHandler, pushSenderHandlerPorts } from './handler.js';
import { providersFromSecrets } from './providers.js';

const ports = pushSenderHandlerPorts(adaptersFrom());
export const handler = createPushSenderHandler(ports, () =>
  providersFromSecrets(process.env, ports.clock, ports.providerTokens, ports.config.webPushEndpointAllowlist),
);
