/**
 * The API reference, generated from the doc comments: `deno doc --html`
 * over every entry point deno.json exports (the same pages JSR shows once
 * the package is published). The output is ignored by git (`.tmp/`).
 *
 * Usage:
 *
 *   npm run docs                                  writes .tmp/api/
 *   deno run -A scripts/api_docs.ts --output DIR  writes DIR
 *
 * Then open `.tmp/api/index.html`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The entry points, as deno.json exports them: mod.ts first. */
export function entryPoints(): string[] {
  const config = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const exports: Record<string, string> = typeof config.exports === "string"
    ? { ".": config.exports }
    : config.exports;
  return Object.values(exports).map((path) => path.replace(/^\.\//, ""));
}

/** Writes the HTML reference into `output`; returns deno doc's exit code. */
export async function writeApiDocs(output: string): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "doc",
      "--html",
      "--name=wsgi",
      `--output=${output}`,
      ...entryPoints(),
    ],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--output");
  if (at !== -1 && !Deno.args[at + 1]) {
    console.error("api_docs: --output needs a directory");
    Deno.exit(2);
  }
  const output = at === -1
    ? join(root, ".tmp", "api")
    : resolve(Deno.args[at + 1]);
  const code = await writeApiDocs(output);
  if (code === 0) {
    console.log(`open ${relative(Deno.cwd(), join(output, "index.html"))}`);
  }
  Deno.exit(code);
}
