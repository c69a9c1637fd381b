/** The presence function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { createPresenceHandler, presenceHandlerPorts } from './handler.js';

export const handler = createPresenceHandler(presenceHandlerPorts(adaptersFrom()));
