/** The edits function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { createEditsHandler, editsHandlerPorts } from './handler.js';

export const handler = createEditsHandler(editsHandlerPorts(adaptersFrom()));
