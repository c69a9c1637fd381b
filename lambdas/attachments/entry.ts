/** The attachments function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { attachmentsHandlerPorts, createAttachmentsHandler } from './handler.js';

export const handler = createAttachmentsHandler(attachmentsHandlerPorts(adaptersFrom()));
