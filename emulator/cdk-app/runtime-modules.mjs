// A module resolve hook for handler-host.mjs: a bare import the function's own files cannot resolve (the AWS SDK v3,
// which Lambda's Node.js runtime provides and CDK's NodejsFunction leaves out of its bundles) is resolved from the
// emulator's own modules instead, as Lambda resolves it from the runtime's. CommonJS requires get the same through
// NODE_PATH, set by the parent.
let fallbackParent;

export async function initialize(data) {
  fallbackParent = data?.fallbackParent;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const bare = !/^(\.|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
    if (!bare || fallbackParent === undefined || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return nextResolve(specifier, { ...context, parentURL: fallbackParent });
  }
}
