// Which runtime the library runs on, for the two places that care: the
// server shims (makeServer) and the command line (mod.ts's main block).

/** The runtimes told apart; `"edge"` is any other fetch-handler runtime. */
type RuntimeName = "deno" | "bun" | "node" | "workerd" | "edge";

/** The runtime this code runs on. */
export function runtimeName(): RuntimeName {
  const g = globalThis as Record<string, unknown>;
  // workerd (Cloudflare Workers) first: with nodejs_compat, the default
  // from compatibility date 2026-08-04, it sets process.versions.node and
  // would pass for Node. It names itself in navigator.userAgent.
  const nav = g.navigator as { userAgent?: string } | undefined;
  if (nav?.userAgent === "Cloudflare-Workers") return "workerd";
  if (typeof g.Deno === "object") return "deno";
  if (typeof g.Bun === "object") return "bun";
  const proc = g.process as { versions?: { node?: string } } | undefined;
  if (proc?.versions?.node) return "node";
  return "edge";
}

/**
 * Whether there is a command line to start: only Deno, Bun and Node have
 * one. `import.meta.main` alone does not tell: bundlers that keep it
 * (esbuild, hence wrangler) make it the worker's own, and workerd sets it
 * for the main module from compatibility date 2026-11-17.
 */
export function hasCommandLine(): boolean {
  const name = runtimeName();
  return name === "deno" || name === "bun" || name === "node";
}
