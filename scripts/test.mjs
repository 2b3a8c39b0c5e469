#!/usr/bin/env node
// Runs every test suite on every runtime and ends with one line,
// "N passed, N failed", summing them all (the line CI reads).
//
//   npm test                 every suite
//   npm test -- deno node    only the named suites
//
// Test files use top-level `test()` from node:test (no `describe`, no
// nested `t.test`), so that the three runners count the same tests.
//
// Plain JavaScript, so that it starts on any Node (CI has only Node 20 and
// npm; the runtimes themselves come from node_modules).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

for (const name of ["deno", "bun", "node"]) {
  if (!existsSync(bin(name))) {
    console.error(`${bin(name)} is missing: run "npm ci" first`);
    process.exit(2);
  }
}

// deno: "ok | 12 passed | 0 failed"; bun: " 12 pass" / " 0 fail";
// node: "ℹ pass 12" / "ℹ fail 0" / "ℹ cancelled 0".
const count = (text, re) => {
  let n = 0;
  for (const m of text.matchAll(re)) n += Number(m[1]);
  return n;
};
const parsers = {
  deno: (t) => [
    count(t, /^(?:ok|FAILED) \| (\d+) passed/gm),
    count(t, /^(?:ok|FAILED) \| .*?\| (\d+) failed/gm),
  ],
  bun: (t) => [count(t, /^\s*(\d+) pass$/gm), count(t, /^\s*(\d+) fail$/gm)],
  node: (t) => [
    count(t, /^ℹ pass (\d+)$/gm),
    count(t, /^ℹ fail (\d+)$/gm) + count(t, /^ℹ cancelled (\d+)$/gm),
  ],
};

export const suites = [
  {
    name: "deno",
    cmd: bin("deno"),
    args: ["test", "-A", "--doc", "mod.ts", "src/", "tests/"],
    parse: parsers.deno,
  },
  {
    name: "bun",
    cmd: bin("bun"),
    args: ["test", "--timeout", "30000", "./tests/"],
    parse: parsers.bun,
  },
  {
    name: "node",
    cmd: bin("node"),
    args: ["--test", "--test-timeout=30000", "tests/**/*.test.ts"],
    parse: parsers.node,
  },
  {
    // Builds npm/, packs and installs it, and uses it as a user would.
    name: "npm",
    cmd: bin("node"),
    args: ["--test", "--test-timeout=240000", "tests_npm/**/*.test.mjs"],
    parse: parsers.node,
  },
];

function run(suite) {
  return new Promise((resolve) => {
    console.log(`\n=== ${suite.name}: ${suite.args.join(" ")}`);
    const child = spawn(suite.cmd, suite.args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    const take = (stream, out) =>
      stream.on("data", (d) => {
        text += d;
        out.write(d);
      });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on("close", (code) => {
      // deno's ANSI codes survive NO_COLOR in some places.
      const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
      let [passed, failed] = suite.parse(plain);
      // A suite that failed without reporting a failed test (a type error,
      // a crash) still counts as one failure.
      if (code !== 0 && failed === 0) failed = 1;
      console.log(`=== ${suite.name}: ${passed} passed, ${failed} failed`);
      resolve([passed, failed]);
    });
  });
}

const wanted = process.argv.slice(2);
let passed = 0;
let failed = 0;
for (const suite of suites) {
  if (wanted.length && !wanted.includes(suite.name)) continue;
  const [p, f] = await run(suite);
  passed += p;
  failed += f;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
