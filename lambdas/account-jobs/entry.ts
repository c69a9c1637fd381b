/** The account deletion worker's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { accountJobsHandlerPorts, createAccountJobsHandler } from './handler.js';

export const handler = createAccountJobsHandler(accountJobsHandlerPorts(adaptersFrom()));
