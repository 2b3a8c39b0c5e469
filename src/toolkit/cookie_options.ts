/**
 * The attributes of a cookie: {@linkcode CookieOptions}.
 *
 * @module
 */

/**
 * The attributes of a cookie set by {@linkcode WSGIResponse.setCookie}
 * (RFC 6265 §4.1.2, plus `SameSite` and `Partitioned`).
 *
 * @example Usage
 * ```ts
 * import type { CookieOptions } from "@wsgi/wsgi/toolkit";
 * const session: CookieOptions = {
 *   httpOnly: true,
 *   secure: true,
 *   sameSite: "Lax",
 *   maxAge: 3600,
 * };
 * ```
 */
export interface CookieOptions {
  /** Seconds until it expires (`Max-Age`; `Expires` is set to match). */
  maxAge?: number;
  /** When it expires: a Date, milliseconds since the epoch, or a date string. */
  expires?: Date | number | string;
  /** The paths it is sent for; null for none (the browser's default). @default {"/"} */
  path?: string | null;
  /** The host it is sent to, and its subdomains. */
  domain?: string;
  /** Only over HTTPS. */
  secure?: boolean;
  /** Hidden from scripts. */
  httpOnly?: boolean;
  /** Cross-site sending: `Strict`, `Lax` or `None` (browsers want `Secure` with `None`). */
  sameSite?: "Strict" | "Lax" | "None" | "strict" | "lax" | "none";
  /** Stored per top-level site (CHIPS); implies `Secure`. */
  partitioned?: boolean;
}
