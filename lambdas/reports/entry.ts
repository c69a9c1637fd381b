/** The reports function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { createReportsHandler, reportsHandlerPorts } from './handler.js';

export const handler = createReportsHandler(reportsHandlerPorts(adaptersFrom()));
