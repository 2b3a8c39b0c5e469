// The PROXY protocol (`proxyProtocol`, `proxyAllowFrom`) over raw TCP on
// each runtime: gunicorn's own corpus (tests/fixtures/gunicorn_pp), v1 and
// v2 from an allowed peer, a header from a peer not allowed, malformed and
// slow headers, the v2 TLS flag, keep-alive after the header, and the
// header split over several writes. Then the parser on its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { makeServer } from "../mod.ts";
import { bytes, connect, header, text } from "./_raw_http.ts";
import { memoryErrors } from "./_capture.ts";
import { sleep, within } from "./_util.ts";
import { spawn } from "node:child_process";
import { createServer as netServer } from "node:net";
import { parseProxyHeader } from "../src/core/_forwarded/proxy_protocol.ts";
import { cleanup, proc, startCli } from "./_cli_proc.ts";
import { echo, refused, serving } from "./_proxy_echo.ts";

/**
 * A gunicorn corpus file as bytes (its tests/treq.py format). Its HTTP/1.1
 * requests have no Host, which RFC 9112 §3.2 requires (Node, Deno and Bun
 * answer 400 without one, PROXY header or not): `Host: a` is added after
 * each HTTP/1.1 request line, and nothing else changes.
 */
function corpus(name: string): Uint8Array {
  const raw = readFileSync(
    new URL(`./fixtures/gunicorn_pp/${name}`, import.meta.url),
    "latin1",
  );
  const data = raw.replaceAll("\n", "").replaceAll("\\r\\n", "\r\n")
    .replace(
      /\\x([0-9a-fA-F]{2})/g,
      (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)),
    ).replaceAll(" HTTP/1.1\r\n", " HTTP/1.1\r\nHost: a\r\n");
  return bytes(data);
}

/** Sends `data`, reads `count` responses as JSON. */
async function send(
  port: number,
  data: Uint8Array | string,
  count = 1,
): Promise<Record<string, string>[]> {
  const conn = await connect(port);
  try {
    await conn.write(data);
    const out: Record<string, string>[] = [];
    for (let i = 0; i < count; i++) {
      const response = await conn.readResponse();
      assert.equal(response.status, 200, text(response));
      out.push(JSON.parse(text(response)));
    }
    return out;
  } finally {
    conn.destroy();
  }
}

test("gunicorn's corpus: pp_02 (v1, two requests on one connection)", async () => {
  await serving({ proxyProtocol: "auto" }, async (port) => {
    const [a, b] = await send(port, corpus("valid_pp_02.http"), 2);
    assert.equal(a.REMOTE_ADDR, "192.168.0.1");
    assert.equal(a.REMOTE_PORT, "56324");
    assert.equal(a.PATH_INFO, "/stuff/here");
    assert.equal(a.QUERY_STRING, "foo=bar");
    assert.equal(a.body, '{"nom": "nom"}');
    // The header is read once, before the first request: it holds for the
    // connection.
    assert.equal(b.REMOTE_ADDR, "192.168.0.1");
    assert.equal(b.REQUEST_METHOD, "POST");
    assert.equal(b.PATH_INFO, "/post_chunked_all_your_base");
    assert.equal(b.body, "all your base are belong to us");
    assert.equal(b["wsgi.url_scheme"], "http");
  });
});

test("gunicorn's corpus: pp_03 (no header: plain HTTP, the socket's peer)", async () => {
  await serving({ proxyProtocol: "auto" }, async (port) => {
    const [a] = await send(port, corpus("valid_pp_03.http"));
    assert.equal(a.REMOTE_ADDR, "127.0.0.1");
    assert.equal(a.body, '{"nom": "nom"}');
  });
});

test("gunicorn's corpus: pp_04 and pp_05 (v2, IPv4 and IPv6)", async () => {
  await serving({ proxyProtocol: "v2" }, async (port) => {
    const [a] = await send(port, corpus("valid_pp_04.http"));
    assert.equal(a.REMOTE_ADDR, "172.19.0.1");
    assert.equal(a.REMOTE_PORT, String(0xa652));
    assert.equal(a.PATH_INFO, "/stuff/here");
    assert.equal(a.body, '{"nom": "nom"}');
    const [b] = await send(port, corpus("valid_pp_05.http"));
    assert.equal(b.REMOTE_ADDR, "ff02::5678:1");
    assert.equal(b.REMOTE_PORT, String(0xa652));
  });
});

test("gunicorn's corpus: invalid pp_01 (a cut v1 line) closes the connection", async () => {
  const errors = memoryErrors();
  await serving({ proxyProtocol: "v1", errors }, async (port) => {
    await refused(port, corpus("invalid_pp_01.http"));
  });
  assert.match(errors.text(), /PROXY protocol from 127\.0\.0\.1: .*fields/);
});

test("a header from a peer not in proxyAllowFrom closes the connection; plain HTTP from it is served", async () => {
  const errors = memoryErrors();
  await serving(
    { proxyProtocol: "auto", proxyAllowFrom: ["10.0.0.0/8"], errors },
    async (port) => {
      await refused(
        port,
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      );
      const [a] = await send(port, "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal(a.REMOTE_ADDR, "127.0.0.1");
    },
  );
  assert.match(errors.text(), /not in proxyAllowFrom/);
});

test("v1 TCP6 and UNKNOWN; a header split over writes; the mode limits the version", async () => {
  await serving({ proxyProtocol: "auto" }, async (port) => {
    const [a] = await send(
      port,
      "PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\nGET /6 HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert.equal(a.REMOTE_ADDR, "2001:db8::1");
    assert.equal(a.REMOTE_PORT, "4000");
    const [b] = await send(
      port,
      "PROXY UNKNOWN\r\nGET /u HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert.equal(b.REMOTE_ADDR, "127.0.0.1");
    const conn = await connect(port);
    try {
      for (const part of ["PRO", "XY TCP4 9.8.7.6 1.", "2.3.4 5 6\r", "\n"]) {
        await conn.write(part);
        await sleep(20);
      }
      await conn.write("GET /split HTTP/1.1\r\nHost: a\r\n\r\n");
      const r = JSON.parse(text(await conn.readResponse()));
      assert.equal(r.REMOTE_ADDR, "9.8.7.6");
      assert.equal(r.PATH_INFO, "/split");
    } finally {
      conn.destroy();
    }
  });
  // v2 only: a v1 line is no header, so HTTP sees it and refuses it.
  await serving({ proxyProtocol: "v2" }, async (port) => {
    const conn = await connect(port);
    try {
      await conn.write(
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      );
      const response = await conn.readResponse();
      assert.equal(response.status, 400);
    } finally {
      conn.destroy();
    }
  });
});

/** A v2 PROXY header for TCP over IPv4, with optional TLVs. */
function v2(
  src: number[],
  sport: number,
  tlvs: number[] = [],
  command = 1,
): Uint8Array {
  const addr = [...src, 127, 0, 0, 1, sport >> 8, sport & 255, 0, 80];
  const body = [...addr, ...tlvs];
  return new Uint8Array([
    0x0d,
    0x0a,
    0x0d,
    0x0a,
    0x00,
    0x0d,
    0x0a,
    0x51,
    0x55,
    0x49,
    0x54,
    0x0a,
    0x20 | command,
    0x11,
    body.length >> 8,
    body.length & 255,
    ...body,
  ]);
}

function join(a: Uint8Array, b: string): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(bytes(b), a.length);
  return out;
}

test("v2: the TLS flag makes wsgi.url_scheme https; LOCAL keeps the peer; a cut TLV or v1 garbage closes", async () => {
  const errors = memoryErrors();
  await serving({ proxyProtocol: "auto", errors }, async (port) => {
    // PP2_TYPE_SSL (0x20), length 5: client flags PP2_CLIENT_SSL, verify 0.
    const ssl = [0x20, 0, 5, 0x01, 0, 0, 0, 0];
    const [a] = await send(
      port,
      join(
        v2([203, 0, 113, 7], 5555, ssl),
        "GET /tls HTTP/1.1\r\nHost: a\r\n\r\n",
      ),
    );
    assert.equal(a.REMOTE_ADDR, "203.0.113.7");
    assert.equal(a["wsgi.url_scheme"], "https");
    const [b] = await send(
      port,
      join(v2([203, 0, 113, 8], 1, [], 0), "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    );
    assert.equal(b.REMOTE_ADDR, "127.0.0.1");
    assert.equal(b["wsgi.url_scheme"], "http");
    await refused(port, join(v2([1, 2, 3, 4], 1, [0x20, 0, 9, 1]), "GET /"));
    for (
      const bad of [
        "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", // a leading zero
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
        "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\nGET / HTTP/1.1\r\n\r\n",
        "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
        `PROXY TCP4 ${"1".repeat(120)}`,
      ]
    ) await refused(port, bad);
  });
  assert.match(errors.text(), /not 0-65535/);
});

test("a header that never completes is dropped after headersTimeout", async () => {
  const errors = memoryErrors();
  await serving(
    { proxyProtocol: "auto", headersTimeout: 300, errors },
    async (port) => {
      const conn = await connect(port);
      try {
        await conn.write("PROXY TCP4 1.2.3.4");
        assert.equal(await conn.waitClosed(5000), true);
      } finally {
        conn.destroy();
      }
    },
  );
  assert.match(errors.text(), /no complete header in time/);
});

test("proxyProtocol and proxyAllowFrom are checked", () => {
  assert.throws(
    () => makeServer("127.0.0.1", 0, echo, { proxyAllowFrom: ["nope"] }),
    /proxyAllowFrom: "nope"/,
  );
});

test("the parser: prefixes wait for more, other bytes are plain HTTP", () => {
  assert.deepEqual(parseProxyHeader(bytes("PRO"), "auto"), { kind: "more" });
  assert.deepEqual(parseProxyHeader(bytes("\r\n\r\n"), "auto"), {
    kind: "more",
  });
  assert.deepEqual(parseProxyHeader(bytes("GET / HTTP/1.1"), "auto"), {
    kind: "none",
  });
  assert.deepEqual(parseProxyHeader(bytes("PROXY TCP4"), "v2"), {
    kind: "none",
  });
  const ok = parseProxyHeader(
    bytes("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nX"),
    "v1",
  );
  assert.deepEqual(ok, {
    kind: "header",
    length: 32,
    info: { client: { address: "1.2.3.4", port: 1 }, tls: false },
  });
});

test("the CLI: --proxy-protocol and --proxy-allow-from reach every worker", async () => {
  const cli = startCli([
    "--workers",
    "2",
    "--port",
    "0",
    "--proxy-protocol",
    "--proxy-allow-from",
    "127.0.0.0/8",
    "tests/fixtures/remote_app.ts:app",
  ]);
  try {
    const m = await cli.wait(/port (\d+) \(http/, 20000);
    const port = Number(m[1]);
    for (let i = 0; i < 4; i++) {
      const conn = await connect(port);
      try {
        await conn.write(
          `PROXY TCP4 198.51.100.${i} 127.0.0.1 ${4000 + i} ${port}\r\n` +
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        );
        assert.equal(
          text(await conn.readResponse()),
          `198.51.100.${i} ${4000 + i} http`,
        );
      } finally {
        conn.destroy();
      }
    }
    proc.kill(cli.pid, "SIGTERM");
    assert.equal(await within(cli.exited, 15000, "the CLI's stop"), 0);
  } finally {
    await cleanup(cli);
  }
});

test("keep-alive after the header: the next request on the same connection", async () => {
  await serving({ proxyProtocol: "v1" }, async (port) => {
    const conn = await connect(port);
    try {
      await conn.write(
        "PROXY TCP4 192.0.2.1 127.0.0.1 7 8\r\nGET /1 HTTP/1.1\r\nHost: a\r\n\r\n",
      );
      const first = await conn.readResponse();
      assert.equal(JSON.parse(text(first)).REMOTE_ADDR, "192.0.2.1");
      assert.notEqual(header(first, "connection"), "close");
      // Apart, not pipelined: Deno's node:http closed a handed-over
      // connection after each response (denoland/deno#35609).
      await sleep(50);
      await conn.write("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
      const second = JSON.parse(text(await conn.readResponse()));
      assert.equal(second.PATH_INFO, "/2");
      assert.equal(second.REMOTE_ADDR, "192.0.2.1");
    } finally {
      conn.destroy();
    }
  });
});

const NGINX = "/usr/sbin/nginx";
const STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

test(
  "docs/deploy.md's nginx stream block, run: REMOTE_PORT is the client's own port, not nginx's",
  {
    skip: existsSync(NGINX) && existsSync(STREAM_MODULE)
      ? false
      : "needs nginx and its stream module (Debian's libnginx-mod-stream)",
  },
  async () => {
    const doc = readFileSync(
      new URL("../docs/deploy.md", import.meta.url),
      "utf8",
    );
    const section = doc.slice(doc.indexOf("## The PROXY protocol"));
    const block = /```nginx\n([\s\S]*?)```/.exec(section)![1];
    assert.match(block, /proxy_protocol on;/);
    const dir = mkdtempSync(pathJoin(tmpdir(), "wsgi-nginx-"));
    const server = makeServer("127.0.0.1", 0, echo, {
      log: false,
      proxyProtocol: "auto",
    });
    await server.ready;
    // A free port, asked of the system (nginx cannot be told port 0).
    const probe = netServer();
    const front = await new Promise<number>((resolve) =>
      probe.listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      })
    );
    const conf = `load_module ${STREAM_MODULE};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
${
      block.replace("listen 443;", `listen 127.0.0.1:${front};`)
        .replace("127.0.0.1:8000", `127.0.0.1:${server.serverPort}`)
    }`;
    writeFileSync(pathJoin(dir, "nginx.conf"), conf);
    const nginx = spawn(NGINX, ["-p", dir, "-c", pathJoin(dir, "nginx.conf")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    nginx.stderr!.on("data", (d: Uint8Array) => void (err += d));
    try {
      let conn = null;
      for (let i = 0; i < 200 && conn === null; i++) {
        conn = await connect(front).catch(() => null);
        if (conn === null) await sleep(25);
      }
      assert.ok(conn, `nginx did not listen: ${err}`);
      try {
        await conn.write("GET /via-nginx HTTP/1.1\r\nHost: a\r\n\r\n");
        const seen = JSON.parse(text(await conn.readResponse()));
        assert.equal(seen.PATH_INFO, "/via-nginx");
        assert.equal(seen.REMOTE_ADDR, "127.0.0.1");
        assert.equal(seen.REMOTE_PORT, String(conn.socket.localPort));
      } finally {
        conn.destroy();
      }
    } finally {
      nginx.kill("SIGTERM");
      await new Promise((resolve) => {
        if (nginx.exitCode !== null) resolve(null);
        else nginx.once("close", resolve);
      });
      await server.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
