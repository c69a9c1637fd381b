/**
 * Imported first by run.ts: keeps the handlers' Powertools logs (a JSON line per message at INFO) and the SDK's
 * Node 20 notice out of the report on stdout. Set before any handler module creates its logger.
 */
process.env['POWERTOOLS_LOG_LEVEL'] = 'ERROR';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
export {};
