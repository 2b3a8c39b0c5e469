// docs/deploy.md's edge recipes, run here without their platforms: the
// Netlify and Vercel handler modules, as written (only "wsgi" and the
// app's path pointed at this repository), called the way each platform
// calls them (Netlify's context.ip, Vercel's x-real-ip); and the Deno
// Deploy main.ts with app.ts and deno.json, checked by deno check and
// served by deno serve. The platforms themselves are not run here.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { proc, ROOT, startCli } from "./_cli_proc.ts";
import { run } from "./_child.ts";
import { cleanup } from "./_cli_proc.ts";
import { RUNTIME } from "./_util.ts";

const PAGE = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
const MOD = pathToFileURL(join(ROOT, "mod.ts")).href;

/** The first ```ts block of the section titled `title`. */
function block(title: string, lang = "ts ignore"): string {
  const section = PAGE.slice(PAGE.indexOf(`## ${title}`));
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(section);
  if (!m) throw new Error(`docs/deploy.md: no ${lang} block in ${title}`);
  return m[1];
}

/** An app.ts that answers what the handler made of the request. */
const ECHO_APP = `export function app(environ, startResponse) {
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  const keys = ["REMOTE_ADDR", "PATH_INFO", "QUERY_STRING", "wsgi.url_scheme"];
  return [new TextEncoder().encode(JSON.stringify(
    Object.fromEntries(keys.map((k) => [k, environ[k]])),
  ))];
}
`;

/** Writes `source` at dir/path with "wsgi" pointed at this repository. */
function recipe(dir: string, path: string, source: string): string {
  assert.match(source, /from "wsgi";/);
  const file = join(dir, path);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, source.replace(`from "wsgi";`, `from "${MOD}";`));
  return pathToFileURL(file).href;
}

test("docs/deploy.md's Netlify edge function: context.ip is REMOTE_ADDR; config.path", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-netlify-"));
  try {
    writeFileSync(join(dir, "app.ts"), ECHO_APP);
    const url = recipe(
      dir,
      "netlify/edge-functions/app.ts",
      block("Netlify Edge Functions"),
    );
    const mod = await import(url) as {
      default: (request: Request, context: { ip: string }) => Promise<Response>;
      config: { path: string };
    };
    assert.equal(mod.config.path, "/*");
    const response = await mod.default(
      new Request("https://site.example/a/b?x=1"),
      { ip: "203.0.113.9" },
    );
    assert.deepEqual(await response.json(), {
      REMOTE_ADDR: "203.0.113.9",
      PATH_INFO: "/a/b",
      QUERY_STRING: "x=1",
      "wsgi.url_scheme": "https",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("docs/deploy.md's Vercel function: x-real-ip is REMOTE_ADDR; vercel.json rewrites to it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-vercel-"));
  try {
    writeFileSync(join(dir, "app.ts"), ECHO_APP);
    const url = recipe(dir, "api/index.ts", block("Vercel"));
    const mod = await import(url) as {
      default: { fetch(request: Request): Promise<Response> };
    };
    const response = await mod.default.fetch(
      new Request("https://app.example/api", {
        headers: { "x-real-ip": "198.51.100.2" },
      }),
    );
    const seen = await response.json();
    assert.equal(seen.REMOTE_ADDR, "198.51.100.2");
    assert.equal(seen.PATH_INFO, "/api");
    const vercel = JSON.parse(block("Vercel", "json"));
    assert.deepEqual(vercel.rewrites, [{
      source: "/(.*)",
      destination: "/api",
    }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "docs/deploy.md's Deno Deploy main.ts with app.ts and deno.json: deno check passes, deno serve serves",
  {
    skip: RUNTIME !== "deno" &&
      "deno serve and deno check are Deno's: run by deno test",
  },
  async () => {
    const deno = (globalThis as unknown as { Deno: { execPath(): string } })
      .Deno.execPath();
    const dir = mkdtempSync(join(tmpdir(), "wsgi-denodeploy-"));
    try {
      const denoJson = block("The application", "json");
      assert.match(denoJson, /"wsgi": "jsr:@wsgi\/wsgi"/);
      writeFileSync(
        join(dir, "deno.json"),
        denoJson.replace("jsr:@wsgi/wsgi", join(ROOT, "mod.ts")),
      );
      writeFileSync(join(dir, "app.ts"), block("The application"));
      writeFileSync(join(dir, "main.ts"), block("Deno Deploy"));
      const check = await run(deno, ["check", "main.ts"], { cwd: dir });
      assert.equal(check.code, 0, check.stdout + check.stderr);
      const cli = startCli([], {}, dir, [deno, [
        "serve",
        "--allow-net",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "main.ts",
      ]]);
      try {
        const m = await cli.wait(
          /Listening on (?:\x1b\[\d+m)*http:\/\/127\.0\.0\.1:(\d+)\//,
        );
        const page = await fetch(`http://127.0.0.1:${m[1]}/`);
        assert.equal(await page.text(), "¡Hola, mundo!");
        proc.kill(cli.pid, "SIGTERM");
        await cli.exited;
      } finally {
        await cleanup(cli);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
