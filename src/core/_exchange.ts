// Calling the application and collecting what it answers, independent of
// how the answer reaches the wire (a Web Response, or Node's ServerResponse).
import type { ErrorStream, WSGIApplication, WSGIEnvironment } from "./types.ts";
import { ResponseState } from "./_response/state.ts";
import { logError } from "./_errors.ts";
import { FileWrapper } from "./file_wrapper.ts";
import { BodyTimeout } from "./_limits.ts";
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

// What runApp answers, for those that send it (the shims, _serve.ts, cgi.ts).
export type { Outcome, Pump } from "./_response/outcome.ts";

const ERROR_BODY = new TextEncoder().encode(
  "A server error occurred.  Please contact the administrator.",
);

/** An answer of the server's own: a short text body, known whole. */
function textOutcome(
  code: number,
  reason: string,
  type: string,
  text: Uint8Array,
  errors: ErrorStream,
): Outcome {
  return {
    code,
    reason,
    headers: [["Content-Type", type]],
    length: text.length,
    body: [text],
    more: null,
    errors,
  };
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
    if (error instanceof BodyTimeout) {
      // A streamed wsgi.input stalled and the app let the error through:
      // the client's fault, answered as a buffered body's would be.
      const text = new TextEncoder().encode("The request body stalled\n");
      const out = textOutcome(
        408,
        "Request Timeout",
        "text/plain; charset=utf-8",
        text,
        errors,
      );
      out.close = true;
      out.refused = true;
      return out;
    }
    logError(errors, error);
    // wsgiref's error page (`BaseHandler.error_output`): 59 bytes of text.
    return textOutcome(
      500,
      "Internal Server Error",
      "text/plain",
      ERROR_BODY,
      errors,
    );
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
