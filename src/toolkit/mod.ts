/**
 * The WSGI toolkit: what werkzeug and whitenoise give a WSGI app, on the
 * Web platform.
 *
 * @module
 */
export * from "./static.ts";
export * from "./compress.ts";
