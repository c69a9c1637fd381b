/** The export worker's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { createExportsHandler, exportsHandlerPorts } from './handler.js';

export const handler = createExportsHandler(exportsHandlerPorts(adaptersFrom()));
