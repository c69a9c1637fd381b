/** The presence-jobs function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { createPresenceJobsHandler, presenceJobsHandlerPorts } from './handler.js';

export const handler = createPresenceJobsHandler(presenceJobsHandlerPorts(adaptersFrom()));
