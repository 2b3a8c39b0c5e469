// Kept equal to deno.json's "version" by tests/metadata.test.ts.
/** The package version. */
export const VERSION = "0.1.0";
