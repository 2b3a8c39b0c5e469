// One request, from its facts to the outcome, whatever carries it (the
// way in of every server, as wsgiref's `BaseHandler.run`): the body read
// (or streamed), the environ built, the application run and its answer
// collected, with the server's own answers (_response/answers.ts) where it
// fails or is refused. The outcome becomes a Web Response in
// _response/web_response.ts, or is written to Node's ServerResponse by
// runtime/_node/send.ts.
import type { ErrorStream, WSGIApplication, WSGIEnvironment } from "./types.ts";
import { getHeader, makeEnviron, type RequestFacts } from "./environ.ts";
import { DEFAULT_MAX_BODY_SIZE, type WSGIOptions } from "./options.ts";
import { consoleErrors, logError } from "./_errors.ts";
import { BufferedInput, StreamingInput } from "./_input.ts";
import { type BodySource, iterate, readBody } from "./_body.ts";
import { BodyTimeout, stallGuard } from "./_limits.ts";
import type { LoggedFacts } from "./_log_format.ts";
import { FileWrapper } from "./file_wrapper.ts";
import { ResponseState } from "./_response/state.ts";
import { AppBody } from "./_response/app_body.ts";
import {
  declaredLength,
  fitLength,
  lengthFor,
} from "./_response/content_length.ts";
import {
  type DirectBody,
  failing,
  type Outcome,
  readerPump,
} from "./_response/outcome.ts";
import {
  badContentLength,
  malformedBody,
  requestTimeout,
  serverError,
  tooLarge,
} from "./_response/answers.ts";

/** Where a request's body size is noted for the metrics. */
type Measured = { received?: number };

// The `wsgi.input` of every request without a body: reading it moves no
// position, and frozen, no request can leave anything on it for the next.
const NO_INPUT = new BufferedInput(new Uint8Array(0));
Object.freeze(NO_INPUT);

/**
 * Runs an application for one request described by `facts`, reading the
 * body from `source`; the part every server shares. Never rejects, and
 * answers synchronously when it can: a request without a body to an app
 * that answers at once costs no Promise.
 */
export function serveFacts(
  app: WSGIApplication,
  facts: RequestFacts,
  source: BodySource | null,
  options: WSGIOptions & { bodyTimeout?: number },
): Outcome | Promise<Outcome> {
  const limit = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  // makeServer's bodyTimeout: a body that stalls gets 408 (see _limits.ts).
  const stall = options.bodyTimeout ?? 0;
  if (source !== null && stall > 0) source = stallGuard(source, stall);
  // Without a body, no header need be read (see makeEnviron).
  const declared = source === null
    ? null
    : getHeader(facts.headers, "content-length");
  // Content-Length sent twice (Deno and Bun hand over "5, 5"; Node's parser
  // refuses it): RFC 9110 §8.6 lets a recipient either reject such a list or
  // reduce identical values to one. Rejected, as RFC 9112 §6.3 asks for an
  // invalid Content-Length, so that every runtime answers alike (400).
  if (declared !== null && declared.includes(",")) {
    return badContentLength(declared);
  }
  // The metrics' request bytes (see ServerMetrics): the declared length;
  // a chunked body's is known once read (readAndRun).
  if (declared !== null) (facts as Measured).received = Number(declared) || 0;
  // RFC 9110 §15.5.14: refuse before reading when the length is declared.
  if (declared !== null && Number(declared) > limit) return tooLarge(limit);
  if (options.bufferInput === false) {
    const input = new StreamingInput(iterate(source), limit);
    return run(app, facts, input, options, false);
  }
  if (source === null) {
    return run(app, facts, NO_INPUT, options, false);
  }
  return readAndRun(app, facts, source, options, limit, declared === null);
}

async function readAndRun(
  app: WSGIApplication,
  facts: RequestFacts,
  source: BodySource,
  options: WSGIOptions,
  limit: number,
  chunked: boolean,
): Promise<Outcome> {
  let data: Uint8Array | null;
  try {
    data = await readBody(source, limit);
  } catch (error) {
    if (error instanceof BodyTimeout) return requestTimeout();
    // The client went away or sent a malformed body mid-way.
    logError(options.errors ?? consoleErrors, error);
    return malformedBody();
  }
  if (data === null) return tooLarge(limit);
  if (chunked) (facts as Measured).received = data.length;
  return await run(app, facts, new BufferedInput(data), options, chunked);
}

function run(
  app: WSGIApplication,
  facts: RequestFacts,
  input: BufferedInput | StreamingInput,
  options: WSGIOptions,
  chunked: boolean,
): Outcome | Promise<Outcome> {
  const environ = makeEnviron(facts, input, options);
  // A server's facts keep the environ for the access log, and when the app
  // was called if asked (see LoggedFacts); other callers' facts have no
  // such field.
  const logged = facts as LoggedFacts;
  if (logged.environ === null) {
    logged.environ = environ;
    if (logged.ran === -1) logged.ran = performance.now();
  }
  if (chunked && (input as BufferedInput).length > 0) {
    // A chunked body was read in full: its length is now known, and apps
    // that trust CONTENT_LENGTH (most do) can read it. An empty one stays
    // "", as wsgiref leaves it: Deno gives a body stream to every request
    // whose method may have one (POST, PURGE...), even with neither
    // Content-Length nor Transfer-Encoding.
    environ.CONTENT_LENGTH = String((input as BufferedInput).length);
  }
  return runApp(
    app,
    environ,
    options.errors ?? consoleErrors,
    facts.method === "HEAD",
  );
}

/**
 * Runs the application and returns its status, headers and the start of
 * its body. Headers are settled only with the first non-empty chunk or at
 * the end of the body (PEP 3333, "Buffering and Streaming"), so an error
 * before that still becomes wsgiref's 500 page. Never rejects. Synchronous
 * when the application is: the common answer, a list of one chunk, costs
 * no Promise at all.
 */
export function runApp(
  app: WSGIApplication,
  environ: WSGIEnvironment,
  errors: ErrorStream,
  isHead: boolean,
): Outcome | Promise<Outcome> {
  const state = new ResponseState();
  let result: unknown;
  try {
    result = app(environ, state.startResponse);
  } catch (error) {
    return failed(state, null, error, errors);
  }
  if (result instanceof Promise) {
    return result.then(
      (value) => settle(state, value, errors, isHead),
      (error) => failed(state, null, error, errors),
    );
  }
  // The tutorial's answer: startResponse() called, one non-empty chunk, no
  // write(), no close(). Its length is known and nothing is left to pull.
  if (
    Array.isArray(result) && result.length === 1 && state.headers !== null &&
    state.pending.length === 0 &&
    typeof (result as { close?: unknown }).close !== "function"
  ) {
    const chunk: unknown = result[0];
    const headers = state.headers;
    const declared = declaredLength(headers);
    if (
      chunk instanceof Uint8Array && chunk.length > 0 &&
      (declared === -1 || declared === chunk.length)
    ) {
      state.committed = true;
      state.ended = errors;
      return {
        code: state.code,
        reason: state.reason,
        headers,
        length: lengthFor(state.code, headers, chunk.length),
        body: [chunk],
        more: null,
        errors,
      };
    }
  }
  return settle(state, result, errors, isHead);
}

/** The general case of {@linkcode runApp}, once the app has returned. */
async function settle(
  state: ResponseState,
  result: unknown,
  errors: ErrorStream,
  isHead: boolean,
): Promise<Outcome> {
  let body: AppBody | null = null;
  try {
    if (
      result instanceof FileWrapper && state.headers !== null &&
      !state.committed
    ) {
      const src = result.filelike;
      if (src instanceof Blob || src instanceof ReadableStream) {
        // Semantically the same as iterating the wrapper (PEP 3333), but
        // the runtime reads the file itself instead of a copy per block.
        const wrapper = result;
        state.ended = errors;
        const direct: DirectBody = {
          source: src,
          close: () => wrapper.close(),
        };
        return {
          code: state.code,
          reason: state.reason,
          headers: state.headers,
          length: src instanceof Blob
            ? lengthFor(state.code, state.headers, src.size)
            : null,
          body: [],
          more: readerPump(direct),
          errors,
          direct,
        };
      }
    }
    body = new AppBody(result, state, errors);
    let first = body.next();
    if (first instanceof Promise) first = await first;
    const headers = state.headers;
    if (headers === null) {
      throw new Error(
        "The application returned its body without calling startResponse()",
      );
    }
    const out: Outcome = {
      code: state.code,
      reason: state.reason,
      headers,
      length: null,
      body: [],
      more: null,
      errors,
    };
    if (first === null) {
      // The whole body was empty: its length is known (wsgiref's
      // finish_content; an app's own Content-Length stands, as for HEAD).
      await body.close();
      out.length = lengthFor(state.code, headers, 0);
    } else if (body.single && body.spent) {
      await body.close();
      out.length = lengthFor(state.code, headers, first.length);
      out.body.push(first);
    } else if (isHead) {
      // HEAD: the headers GET would send; nothing is read beyond them.
      await body.close();
    } else {
      out.body.push(first);
      out.more = body;
    }
    return isHead ? out : fitLength(out);
  } catch (error) {
    return failed(state, body, error, errors);
  }
}

/** The outcome of an application that threw (or whose body did). */
async function failed(
  state: ResponseState,
  body: AppBody | null,
  error: unknown,
  errors: ErrorStream,
): Promise<Outcome> {
  if (body !== null) await body.close();
  state.ended = errors;
  if (!state.committed || state.headers === null) {
    // A streamed wsgi.input stalled and the app let the error through:
    // the client's fault, answered as a buffered body's would be.
    if (error instanceof BodyTimeout) return requestTimeout();
    logError(errors, error);
    return serverError(errors);
  }
  // Output was already committed by write(): send it, then fail (the
  // stream's consumer logs the error).
  return {
    code: state.code,
    reason: state.reason,
    headers: state.headers,
    length: null,
    body: state.pending.splice(0),
    more: failing(error),
    errors,
  };
}
