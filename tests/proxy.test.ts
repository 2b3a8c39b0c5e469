// Trusted proxies (`forwardedAllowIps`) over real sockets, on each runtime:
// the server binds 127.0.0.1 (or ::1), so the peer is loopback, trusted by
// default and untrusted with `[]` or a list that does not name it. Spoofed
// chains, CIDR lists, IPv6, repeated header lines (raw TCP: fetch would
// join them), RFC 7239 `Forwarded` with quoted values, proto/host/port, and
// malformed values. Then the parser and matcher on their own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer as netServer } from "node:net";
import {
  handleRequest,
  makeServer,
  type ServerOptions,
  type WSGIApplication,
  type WSGIEnvironment,
} from "../mod.ts";
import { connect, text } from "./_raw_http.ts";
import { memoryErrors } from "./_capture.ts";
import {
  compileTrust,
  peerTrusted,
} from "../src/core/_forwarded/proxy_trust.ts";
import {
  parseForwarded,
  parseForwardedTail,
} from "../src/core/_forwarded/header.ts";
import { parseHost, parseNode } from "../src/core/_forwarded/nodes.ts";
import { parseIP } from "../src/core/_forwarded/ip.ts";
import { splitList } from "../src/core/_field_values.ts";

const IPV6 = await new Promise<boolean>((resolve) => {
  const probe = netServer();
  probe.once("error", () => resolve(false));
  probe.listen(0, "::1", () => probe.close(() => resolve(true)));
});

const KEYS = [
  "REMOTE_ADDR",
  "REMOTE_PORT",
  "wsgi.url_scheme",
  "HTTP_HOST",
  "SERVER_NAME",
  "SERVER_PORT",
  "PATH_INFO",
  "HTTP_X_FORWARDED_FOR",
  "HTTP_X_FORWARDED_PROTO",
  "HTTP_X_FORWARDED_HOST",
  "HTTP_X_FORWARDED_PORT",
  "HTTP_FORWARDED",
];

type Seen = Record<string, string | null>;

/** Answers with the keys above (null when absent), read in that order. */
const echo: WSGIApplication = (environ, startResponse) => {
  const seen: Seen = {};
  for (const key of KEYS) {
    seen[key] = key in environ ? String(environ[key]) : null;
  }
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [new TextEncoder().encode(JSON.stringify(seen))];
};

interface Served {
  port: number;
  errors: string;
  seen: Seen;
}

/**
 * Starts a server with `options`, sends one raw request with the header
 * lines `lines` (each "Name: value"), stops the server; gives what the app
 * saw and what went to wsgi.errors.
 */
async function ask(
  lines: string[],
  options: ServerOptions = {},
  host = "127.0.0.1",
  app: WSGIApplication = echo,
): Promise<Served> {
  const errors = memoryErrors();
  const server = makeServer(host, 0, app, { log: false, errors, ...options });
  try {
    await server.ready;
    const port = server.serverPort;
    const conn = await connect(port, host);
    try {
      const shown = host.includes(":") ? `[${host}]` : host;
      await conn.write(
        `GET /p?q=1 HTTP/1.1\r\nHost: ${shown}:${port}\r\n` +
          lines.map((l) => l + "\r\n").join("") +
          "Connection: close\r\n\r\n",
      );
      const response = await conn.readResponse();
      assert.equal(response.status, 200, text(response));
      return { port, errors: errors.text(), seen: JSON.parse(text(response)) };
    } finally {
      conn.destroy();
    }
  } finally {
    await server.shutdown();
  }
}

// ------------------------------------------------------ who the client is

test("no forwarded header: the environ is the connection's", async () => {
  const { port, seen } = await ask([]);
  assert.equal(seen.REMOTE_ADDR, "127.0.0.1");
  assert.match(String(seen.REMOTE_PORT), /^\d+$/);
  assert.equal(seen["wsgi.url_scheme"], "http");
  assert.equal(seen.HTTP_HOST, `127.0.0.1:${port}`);
  assert.equal(seen.SERVER_NAME, "127.0.0.1");
  assert.equal(seen.SERVER_PORT, String(port));
});

test("from trusted loopback (the default), a spoofed chain gives the nearest untrusted hop, never the leftmost", async () => {
  const { seen } = await ask(["X-Forwarded-For: 6.6.6.6, 1.2.3.4"]);
  assert.equal(seen.REMOTE_ADDR, "1.2.3.4");
  // The proxy's port is not the client's: the key is left out.
  assert.equal(seen.REMOTE_PORT, null);
  // A trusted proxy's headers reach the app as sent.
  assert.equal(seen.HTTP_X_FORWARDED_FOR, "6.6.6.6, 1.2.3.4");
  const past = await ask(["X-Forwarded-For: 6.6.6.6, 1.2.3.4, 127.0.0.1"]);
  assert.equal(past.seen.REMOTE_ADDR, "1.2.3.4");
});

test("forwardedAllowIps [] or a list without the peer: forwarded headers are ignored and removed", async () => {
  const lines = [
    "X-Forwarded-For: 6.6.6.6, 1.2.3.4",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: evil.example",
    "X-Forwarded-Port: 444",
    "Forwarded: for=6.6.6.6;proto=https;host=evil.example",
  ];
  for (
    const forwardedAllowIps of [
      [],
      "",
      ["10.0.0.0/8", "::1"],
      "192.168.0.0/16, 127.0.0.2",
    ]
  ) {
    const { port, seen } = await ask(lines, { forwardedAllowIps });
    const what = JSON.stringify(forwardedAllowIps);
    assert.equal(seen.REMOTE_ADDR, "127.0.0.1", what);
    assert.match(String(seen.REMOTE_PORT), /^\d+$/, what);
    assert.equal(seen["wsgi.url_scheme"], "http", what);
    assert.equal(seen.HTTP_HOST, `127.0.0.1:${port}`, what);
    assert.equal(seen.SERVER_NAME, "127.0.0.1", what);
    assert.equal(seen.SERVER_PORT, String(port), what);
    for (const key of KEYS.filter((k) => k.includes("FORWARDED"))) {
      assert.equal(seen[key], null, `${what}: ${key}`);
    }
  }
});

test("CIDR lists: trusted hops are skipped; all trusted gives the leftmost; '*' believes every hop", async () => {
  const chain = "X-Forwarded-For: 6.6.6.6, 1.2.3.4, 10.1.2.3, 10.200.0.1";
  const cidr = await ask([chain], {
    forwardedAllowIps: "127.0.0.0/8, 10.0.0.0/8",
  });
  assert.equal(cidr.seen.REMOTE_ADDR, "1.2.3.4");
  // Only 10.200.0.0/16 trusted: 10.1.2.3 is the client.
  const narrow = await ask([chain], {
    forwardedAllowIps: ["127.0.0.1", "10.200.0.0/16"],
  });
  assert.equal(narrow.seen.REMOTE_ADDR, "10.1.2.3");
  // Every hop a trusted proxy: the request came from the furthest one.
  const inside = await ask(["X-Forwarded-For: 10.0.0.1, 10.0.0.2"], {
    forwardedAllowIps: ["127.0.0.1", "10.0.0.0/8"],
  });
  assert.equal(inside.seen.REMOTE_ADDR, "10.0.0.1");
  // "*": every hop is believed, so the client's own entry wins (the
  // docs/proxies.md's warning).
  const all = await ask(["X-Forwarded-For: 6.6.6.6, 1.2.3.4"], {
    forwardedAllowIps: "*",
  });
  assert.equal(all.seen.REMOTE_ADDR, "6.6.6.6");
});

test(
  "IPv6: a ::1 server trusts ::1 by default; bare and bracketed hops; CIDR",
  {
    skip: !IPV6 && "IPv6 loopback is unavailable",
  },
  async () => {
    const bare = await ask(
      ["X-Forwarded-For: 2001:db8::6, 2001:DB8::1, fd00::2"],
      { forwardedAllowIps: ["::1", "fd00::/8"] },
      "::1",
    );
    assert.equal(bare.seen.REMOTE_ADDR, "2001:DB8::1");
    const bracketed = await ask(
      ["X-Forwarded-For: [2001:db8::1]:4711"],
      {},
      "::1",
    );
    assert.equal(bracketed.seen.REMOTE_ADDR, "2001:db8::1");
    assert.equal(bracketed.seen.REMOTE_PORT, "4711");
    const cidr = await ask(
      ["X-Forwarded-For: 1.2.3.4"],
      { forwardedAllowIps: "::/127" },
      "::1",
    );
    assert.equal(cidr.seen.REMOTE_ADDR, "1.2.3.4");
    const untrusted = await ask(
      ["X-Forwarded-For: 1.2.3.4"],
      { forwardedAllowIps: "127.0.0.1" },
      "::1",
    );
    assert.equal(untrusted.seen.REMOTE_ADDR, "::1");
    assert.equal(untrusted.seen.HTTP_X_FORWARDED_FOR, null);
  },
);

test("several header lines form one list, in order", async () => {
  const xff = await ask([
    "X-Forwarded-For: 6.6.6.6",
    "X-Forwarded-For: 1.2.3.4, 127.0.0.1",
  ]);
  assert.equal(xff.seen.REMOTE_ADDR, "1.2.3.4");
  const forwarded = await ask([
    "Forwarded: for=6.6.6.6",
    'Forwarded: for="[2001:db8::9]:80";proto=https',
    "Forwarded: for=127.0.0.1",
  ]);
  assert.equal(forwarded.seen.REMOTE_ADDR, "2001:db8::9");
  assert.equal(forwarded.seen.REMOTE_PORT, "80");
  assert.equal(forwarded.seen["wsgi.url_scheme"], "https");
});

// ------------------------------------------------ scheme, host and port

test("X-Forwarded-Proto/-Host/-Port set the scheme, HTTP_HOST, SERVER_NAME and SERVER_PORT", async () => {
  const full = await ask([
    "X-Forwarded-For: 1.2.3.4",
    "X-Forwarded-Proto: HTTPS",
    "X-Forwarded-Host: app.example",
    "X-Forwarded-Port: 8443",
  ]);
  assert.equal(full.seen["wsgi.url_scheme"], "https");
  assert.equal(full.seen.HTTP_HOST, "app.example");
  assert.equal(full.seen.SERVER_NAME, "app.example");
  assert.equal(full.seen.SERVER_PORT, "8443");
  assert.equal(full.seen.PATH_INFO, "/p");
  // No port named: the scheme's default.
  const https = await ask(["X-Forwarded-Proto: https"]);
  assert.equal(https.seen["wsgi.url_scheme"], "https");
  assert.equal(https.seen.SERVER_PORT, "443");
  assert.equal(https.seen.REMOTE_ADDR, "127.0.0.1"); // no address named
  const hostPort = await ask(["X-Forwarded-Host: [2001:db8::1]:8080"]);
  assert.equal(hostPort.seen.HTTP_HOST, "[2001:db8::1]:8080");
  assert.equal(hostPort.seen.SERVER_NAME, "2001:db8::1");
  assert.equal(hostPort.seen.SERVER_PORT, "8080");
});

test("proto and host come from the same hop as the address", async () => {
  const lines = [
    "X-Forwarded-For: 1.2.3.4, 10.0.0.7",
    "X-Forwarded-Proto: https, http",
    "X-Forwarded-Host: public.example, internal.lan",
  ];
  const deep = await ask(lines, { forwardedAllowIps: "127.0.0.1,10.0.0.0/8" });
  assert.equal(deep.seen.REMOTE_ADDR, "1.2.3.4");
  assert.equal(deep.seen["wsgi.url_scheme"], "https");
  assert.equal(deep.seen.HTTP_HOST, "public.example");
  const near = await ask(lines);
  assert.equal(near.seen.REMOTE_ADDR, "10.0.0.7");
  assert.equal(near.seen["wsgi.url_scheme"], "http");
  assert.equal(near.seen.HTTP_HOST, "internal.lan");
  // A proxy that sets a single value rather than appending: it is used.
  const single = await ask(
    ["X-Forwarded-For: 1.2.3.4, 10.0.0.7", "X-Forwarded-Proto: https"],
    { forwardedAllowIps: "127.0.0.1,10.0.0.0/8" },
  );
  assert.equal(single.seen["wsgi.url_scheme"], "https");
});

test("Forwarded: quoted IPv6 with port, quoted values holding ',' ';' '=', host and proto of the chosen element", async () => {
  const { seen } = await ask([
    'Forwarded: for=6.6.6.6;proto=http, by="a,b;c=d";for="[2001:db8:cafe::17]:4711";proto=https;host="shop.example:8443", for=127.0.0.1;proto=http',
  ]);
  assert.equal(seen.REMOTE_ADDR, "2001:db8:cafe::17");
  assert.equal(seen.REMOTE_PORT, "4711");
  assert.equal(seen["wsgi.url_scheme"], "https");
  assert.equal(seen.HTTP_HOST, "shop.example:8443");
  assert.equal(seen.SERVER_NAME, "shop.example");
  assert.equal(seen.SERVER_PORT, "8443");
  const hidden = await ask(["Forwarded: for=_hidden, for=unknown"]);
  assert.equal(hidden.seen.REMOTE_ADDR, "unknown");
  const obfuscated = await ask(["Forwarded: for=_hidden;proto=https"]);
  assert.equal(obfuscated.seen.REMOTE_ADDR, "_hidden");
});

test("both families: X-Forwarded-* is believed, a Forwarded beside it ignored", async () => {
  // A proxy that sets only X-Forwarded-* passes the client's Forwarded on.
  const { seen, errors } = await ask([
    "X-Forwarded-For: 1.2.3.4",
    'Forwarded: for=127.0.0.1;proto=https;host="evil.example"',
  ]);
  assert.equal(seen.REMOTE_ADDR, "1.2.3.4");
  assert.equal(seen["wsgi.url_scheme"], "http");
  assert.match(String(seen.HTTP_HOST), /^127\.0\.0\.1:/);
  assert.equal(errors, "");
  // Any X-Forwarded-* header decides it, even one without an address.
  const proto = await ask([
    "X-Forwarded-Proto: https",
    "Forwarded: for=9.9.9.9",
  ]);
  assert.equal(proto.seen.REMOTE_ADDR, "127.0.0.1");
  assert.equal(proto.seen["wsgi.url_scheme"], "https");
});

test("a malformed Forwarded from the client does not hide the element its proxy appended", async () => {
  const appended = await ask(['Forwarded: for="6.6.6.6, for=1.2.3.4']);
  assert.equal(appended.seen.REMOTE_ADDR, "1.2.3.4");
  assert.match(appended.errors, /unterminated/);
  const lines = await ask([
    'Forwarded: for="[::1, by=x;;=',
    "Forwarded: for=1.2.3.4;proto=https",
  ]);
  assert.equal(lines.seen.REMOTE_ADDR, "1.2.3.4");
  assert.equal(lines.seen["wsgi.url_scheme"], "https");
  // Every readable hop trusted: the client is in the unreadable part.
  const hidden = await ask(['Forwarded: for="6.6.6.6, for=127.0.0.1']);
  assert.equal(hidden.seen.REMOTE_ADDR, "unknown");
});

// --------------------------------------------------------- bad values

test("malformed values are ignored, named in wsgi.errors, and the request served", async () => {
  const cases: [string, Seen, RegExp][] = [
    ["X-Forwarded-For: not-an-ip", { REMOTE_ADDR: "unknown" }, /not-an-ip/],
    ["X-Forwarded-For: 1.2.3.4, 999.1.1.1", {
      REMOTE_ADDR: "unknown",
    }, /999\.1\.1\.1/],
    ["X-Forwarded-Proto: ftp", { "wsgi.url_scheme": "http" }, /"ftp"/],
    ["X-Forwarded-Host: evil/admin", {
      SERVER_NAME: "127.0.0.1",
      PATH_INFO: "/p",
    }, /evil\/admin/],
    ["X-Forwarded-Host: a b", { SERVER_NAME: "127.0.0.1" }, /"a b"/],
    ["X-Forwarded-Port: 99999", { SERVER_PORT: null }, /99999/],
    ['Forwarded: for="1.2.3.4', { REMOTE_ADDR: "unknown" }, /unterminated/],
    ["Forwarded: for=1.1.1.1;for=2.2.2.2", {
      REMOTE_ADDR: "unknown",
    }, /repeated/],
    // RFC 7239 §6.1: IPv6 must be bracketed, and a value with ":" quoted.
    ["Forwarded: for=2001:db8::1", { REMOTE_ADDR: "unknown" }, /malformed/],
    ['Forwarded: for="2001:db8::1"', {
      REMOTE_ADDR: "unknown",
    }, /not a node/],
    ["Forwarded: for=1.2.3.4;proto=https;host=x;junk", {
      REMOTE_ADDR: "unknown",
      "wsgi.url_scheme": "http",
    }, /"=value"/],
    ["Forwarded: for=1.2.3.4;proto=wss", {
      REMOTE_ADDR: "1.2.3.4",
      "wsgi.url_scheme": "http",
    }, /not http or https/],
    ["X-Forwarded-For: 1.2.3.4\x85", { REMOTE_ADDR: "unknown" }, /\\x85/],
  ];
  for (const [line, expected, logged] of cases) {
    const { port, seen, errors } = await ask([line]);
    for (const [key, value] of Object.entries(expected)) {
      // SERVER_PORT null: the bound port, unchanged.
      const want = key === "SERVER_PORT" && value === null
        ? String(port)
        : value;
      assert.equal(seen[key], want, `${JSON.stringify(line)}: ${key}`);
    }
    assert.match(errors, logged, JSON.stringify(line));
    // Never a raw control or non-ASCII byte in the log line.
    assert.doesNotMatch(errors, /[^\x20-\x7e\n]/, JSON.stringify(line));
  }
});

test("empty list members are skipped (RFC 9110 §5.6.1)", async () => {
  const { seen, errors } = await ask([
    "X-Forwarded-For: , 1.2.3.4,, ",
    "Forwarded: , for=1.2.3.4,",
  ]);
  assert.equal(seen.REMOTE_ADDR, "1.2.3.4");
  assert.equal(errors, "");
});

// ------------------------------------------- when the headers are read

test("the forwarded values hold whichever key the app reads first", async () => {
  const lines = [
    "X-Forwarded-For: 1.2.3.4",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: app.example",
  ];
  const orders: [string, (env: WSGIEnvironment) => unknown][] = [
    ["scheme only", (env) => ({ s: env["wsgi.url_scheme"] })],
    ["SERVER_PORT, then REMOTE_ADDR", (env) => ({
      p: env.SERVER_PORT,
      a: env.REMOTE_ADDR,
    })],
    ["spread", (env) => {
      const copy = { ...env };
      return {
        s: copy["wsgi.url_scheme"],
        a: copy.REMOTE_ADDR,
        h: copy.HTTP_HOST,
        n: copy.SERVER_NAME,
      };
    }],
    ["keys then values", (env) => {
      const keys = Object.keys(env);
      return {
        a: env.REMOTE_ADDR,
        port: keys.includes("REMOTE_PORT"),
        s: env["wsgi.url_scheme"],
      };
    }],
    ["writes first", (env) => {
      env.SERVER_NAME = "mine";
      return { n: env.SERVER_NAME, h: env.HTTP_HOST };
    }],
  ];
  const expected: Record<string, unknown> = {
    "scheme only": { s: "https" },
    "SERVER_PORT, then REMOTE_ADDR": { p: "443", a: "1.2.3.4" },
    spread: { s: "https", a: "1.2.3.4", h: "app.example", n: "app.example" },
    "keys then values": { a: "1.2.3.4", port: false, s: "https" },
    "writes first": { n: "mine", h: "app.example" },
  };
  for (const [name, read] of orders) {
    const app: WSGIApplication = (environ, startResponse) => {
      const out = read(environ);
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [new TextEncoder().encode(JSON.stringify(out))];
    };
    const { seen } = await ask(lines, {}, "127.0.0.1", app);
    assert.deepEqual(seen, expected[name], name);
  }
});

test("a client gone before the app reads the environ is not believed (Bun and Node no longer know the peer)", async () => {
  let done!: (seen: Seen) => void;
  const seen = new Promise<Seen>((resolve) => (done = resolve));
  let gone!: () => void;
  const left = new Promise<void>((resolve) => (gone = resolve));
  const app: WSGIApplication = async (environ, startResponse) => {
    await left;
    await new Promise((resolve) => setTimeout(resolve, 100));
    done({
      addr: String(environ.REMOTE_ADDR),
      scheme: String(environ["wsgi.url_scheme"]),
      xff: (environ.HTTP_X_FORWARDED_FOR as string | undefined) ?? null,
    });
    startResponse("204 No Content", []);
    return [];
  };
  const server = makeServer("127.0.0.1", 0, app, {
    log: false,
    forwardedAllowIps: ["10.9.9.9"],
  });
  try {
    await server.ready;
    const conn = await connect(server.serverPort);
    await conn.write(
      "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n" +
        "X-Forwarded-Proto: https\r\n\r\n",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    conn.destroy();
    gone();
    const got = await seen;
    assert.notEqual(got.addr, "6.6.6.6");
    assert.equal(got.scheme, "http");
    assert.equal(got.xff, null);
  } finally {
    await server.shutdown();
  }
});

test("the access log shows the socket peer", async () => {
  const lines: string[] = [];
  await ask(["X-Forwarded-For: 1.2.3.4"], { log: (l) => lines.push(l) });
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^127\.0\.0\.1 /);
});

test("handleRequest has no peer to trust: forwarded headers stay plain headers", async () => {
  let seen: WSGIEnvironment | null = null;
  const app: WSGIApplication = (environ, startResponse) => {
    seen = { ...environ };
    startResponse("204 No Content", []);
    return [];
  };
  await handleRequest(
    new Request("http://h/", {
      headers: { "x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https" },
    }),
    app,
    {},
    { remoteAddr: "127.0.0.1" },
  );
  const env = seen! as WSGIEnvironment;
  assert.equal(env.REMOTE_ADDR, "127.0.0.1");
  assert.equal(env["wsgi.url_scheme"], "http");
  assert.equal(env.HTTP_X_FORWARDED_FOR, "1.2.3.4");
});

test("a bad forwardedAllowIps is a TypeError from makeServer, naming the entry", () => {
  const bad: [unknown, RegExp][] = [
    [["10.0.0.0/33"], /"10\.0\.0\.0\/33".*prefix/],
    ["127.0.0.1, localhost", /"localhost"/],
    [["::1/129"], /"::1\/129"/],
    [["1.2.3"], /"1\.2\.3"/],
    [[42], /42 is not a string/],
    [42, /string or an array/],
  ];
  for (const [forwardedAllowIps, message] of bad) {
    assert.throws(
      () =>
        makeServer("127.0.0.1", 0, echo, {
          log: false,
          forwardedAllowIps: forwardedAllowIps as string,
        }),
      (e: unknown) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(forwardedAllowIps),
    );
  }
});

// ------------------------------------------- the parser and the matcher

test("matcher: addresses, CIDR edges, IPv4-mapped peers, peers without an address", () => {
  const t = compileTrust(
    "10.0.0.0/8, 192.168.1.128/25, 2001:db8::/32, fe80::1, ::ffff:172.16.0.0/108",
  );
  const yes = [
    "10.0.0.0",
    "10.255.255.255",
    "::ffff:10.1.2.3",
    "::FFFF:a01:203", // 10.1.2.3 in hex words
    "192.168.1.128",
    "192.168.1.255",
    "2001:db8::",
    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::1%eth0",
    "172.16.0.1",
    "172.31.255.255",
  ];
  const no = [
    "11.0.0.0",
    "9.255.255.255",
    "192.168.1.127",
    "2001:db9::",
    "2001:db7:ffff::",
    "fe80::2",
    "172.32.0.0",
    "::ffff:11.0.0.1",
    "010.0.0.1",
    "garbage",
  ];
  for (const a of yes) assert.equal(peerTrusted(t, a), true, a);
  for (const a of no) assert.equal(peerTrusted(t, a), false, a);
  const def = compileTrust(undefined);
  assert.equal(peerTrusted(def, "127.0.0.1"), true);
  assert.equal(peerTrusted(def, "::ffff:127.0.0.1"), true);
  assert.equal(peerTrusted(def, "::1"), true);
  assert.equal(peerTrusted(def, "127.0.0.2"), false);
  // No address: a unix socket's peer is trusted (unless the list is
  // empty); on TCP, a peer no longer known is not.
  assert.equal(peerTrusted(t, ""), false);
  const unix = { ...compileTrust(undefined), unix: true };
  assert.equal(peerTrusted(unix, ""), true);
  assert.equal(peerTrusted({ ...compileTrust([]), unix: true }, ""), false);
  assert.equal(peerTrusted(compileTrust("*"), "203.0.113.9"), true);
  assert.equal(peerTrusted(compileTrust("0.0.0.0/0"), "203.0.113.9"), true);
  assert.equal(peerTrusted(compileTrust("0.0.0.0/0"), "2001:db8::1"), false);
});

test("address parser: IPv4 strict, IPv6 with :: and IPv4 tails", () => {
  for (
    const bad of [
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "01.2.3.4",
      "1.2.3.-4",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      ":1::",
      "12345::",
      "::g",
      "::1.2.3",
      "fe80::1%",
    ]
  ) assert.equal(parseIP(bad), null, bad);
  assert.deepEqual(parseIP("::"), { v6: [0, 0, 0, 0, 0, 0, 0, 0] });
  assert.deepEqual(parseIP("1::"), { v6: [1, 0, 0, 0, 0, 0, 0, 0] });
  assert.deepEqual(parseIP("::ffff:1.2.3.4"), { v4: 0x01020304 });
  assert.deepEqual(parseIP("64:ff9b::1.2.3.4"), {
    v6: [0x64, 0xff9b, 0, 0, 0, 0, 0x102, 0x304],
  });
});

/** The elements of a Forwarded value as plain objects; fails on errors. */
function elements(value: string): Record<string, string>[] {
  const parsed = parseForwarded(value);
  if (typeof parsed === "string") assert.fail(`${value}: ${parsed}`);
  return parsed.map((e) => ({ ...e }));
}

test("Forwarded parser: RFC 7239 §4 examples, quoting, errors", () => {
  assert.deepEqual(elements('for="_gazonk"'), [{ for: "_gazonk" }]);
  assert.deepEqual(elements('For="[2001:db8:cafe::17]:4711"'), [
    { for: "[2001:db8:cafe::17]:4711" },
  ]);
  assert.deepEqual(elements("for=192.0.2.60;proto=http;by=203.0.113.43"), [
    { for: "192.0.2.60", proto: "http", by: "203.0.113.43" },
  ]);
  assert.deepEqual(elements("for=192.0.2.43, for=198.51.100.17"), [
    { for: "192.0.2.43" },
    { for: "198.51.100.17" },
  ]);
  assert.deepEqual(elements('by="a\\"b,c;d=e" ; for=x'), [
    { by: 'a"b,c;d=e', for: "x" },
  ]);
  // A malformed value keeps its readable tail; the search is bounded.
  const tail = parseForwardedTail('for="x, by="a,b";for=_y, for=1.2.3.4');
  assert.deepEqual(tail.elements.map((e) => ({ ...e })), [
    { by: "a,b", for: "_y" },
    { for: "1.2.3.4" },
  ]);
  assert.match(String(tail.error), /unexpected "a"/);
  const long = 'for="x' + ", for=1.2.3.4".repeat(100) + ",for=5.6.7.8";
  assert.equal(parseForwardedTail(long).elements.length, 32);
  assert.deepEqual(parseForwardedTail('for="x').elements, []);
  // "__proto__" is a plain parameter name.
  const proto = parseForwarded("__proto__=x") as Record<string, string>[];
  assert.equal(proto[0]["__proto__"], "x");
  for (
    const bad of [
      'for="x',
      "for=",
      "for",
      "=x",
      "for=x y",
      "for=1;for=2",
      'for="a\x01"',
      "for=a\x7f",
    ]
  ) {
    assert.equal(typeof parseForwarded(bad), "string", JSON.stringify(bad));
  }
});

test("node, host and list parsers", () => {
  // Only SP and HTAB are trimmed (OWS), and empty members skipped.
  assert.deepEqual(splitList(" a ,, b\t, ,c\xa0"), ["a", "b", "c\xa0"]);
  assert.deepEqual(splitList(" , "), []);
  assert.deepEqual(parseNode("[2001:db8::1]:80", false)?.port, 80);
  assert.equal(parseNode("[2001:db8::1]:80", false)?.name, "2001:db8::1");
  assert.equal(parseNode("2001:db8::1", false), null);
  assert.equal(parseNode("2001:db8::1", true)?.name, "2001:db8::1");
  assert.equal(parseNode("1.2.3.4:65536", true), null);
  assert.equal(parseNode("1.2.3.4:_obf", true)?.port, undefined);
  assert.equal(parseNode("UNKNOWN", false)?.name, "unknown");
  assert.equal(parseNode("_a-b.c", false)?.name, "_a-b.c");
  assert.equal(parseNode("[1.2.3.4]", false), null);
  assert.equal(parseNode("[::1", false), null);
  assert.deepEqual(parseHost("example.com:8080"), {
    name: "example.com",
    port: "8080",
  });
  assert.deepEqual(parseHost("[::1]"), { name: "::1", port: null });
  for (
    const bad of ["a/b", "a?b", "a#b", "u@h", "h:", "h:99999", "[zz]", ""]
  ) assert.equal(parseHost(bad), null, bad);
});
