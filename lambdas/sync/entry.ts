/** The read side function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { syncHandlerPorts, createSyncHandler } from './handler.js';

export const handler = createSyncHandler(syncHandlerPorts(adaptersFrom()));
