/** The $default function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { defaultHandlerPorts, createDefaultHandler } from './handler.js';

export const handler = createDefaultHandler(defaultHandlerPorts(adaptersFrom()));
