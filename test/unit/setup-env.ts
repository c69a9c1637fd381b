/**
 * Imported first by every unit test file (before any core module): the Powertools logger reads its level when
 * core/observability.ts is evaluated, so it has to be set before that import runs.
 */
process.env['POWERTOOLS_LOG_LEVEL'] ??= 'SILENT';
// The SDK's "node >= 22 soon" notice, once per worker: noise in test output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export {};
