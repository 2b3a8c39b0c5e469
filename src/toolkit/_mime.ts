// Content-Type by file extension: the common web types (a small table in
// the spirit of nginx's mime.types, which whitenoise copies), and which of
// them are already compressed, for the compression middleware.

const TYPES: Record<string, string> = {
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  js: "text/javascript",
  mjs: "text/javascript",
  cjs: "text/javascript",
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  xml: "application/xml",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  wasm: "application/wasm",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  br: "application/x-brotli",
  tar: "application/x-tar",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  bmp: "image/bmp",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  mp4: "video/mp4",
  webm: "video/webm",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  wav: "audio/wav",
};

/**
 * The Content-Type for a file name, from `extra` first, then the table;
 * `application/octet-stream` when unknown. Text types get
 * `charset=utf-8` (RFC 9110 §8.3.1: text/* has no reliable default).
 */
export function contentTypeFor(
  name: string,
  extra?: Readonly<Record<string, string>>,
): string {
  const dot = name.lastIndexOf(".");
  const ext = dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  const type = extra?.[ext] ?? TYPES[ext] ?? "application/octet-stream";
  return type.startsWith("text/") && !type.includes(";")
    ? `${type}; charset=utf-8`
    : type;
}

/**
 * Whether a Content-Type is already compressed, so compressing it again
 * only costs CPU: images but SVG, audio, video, fonts but the old
 * uncompressed ones, archives.
 */
export function isCompressedType(contentType: string): boolean {
  const type = contentType.split(";")[0].trim().toLowerCase();
  if (type === "image/svg+xml" || type === "image/bmp") return false;
  if (type === "font/ttf" || type === "font/otf") return false;
  if (/^(image|audio|video)\//.test(type)) return true;
  return type === "font/woff" || type === "font/woff2" ||
    type === "application/zip" || type === "application/gzip" ||
    type === "application/x-gzip" || type === "application/x-brotli" ||
    type === "application/zstd" || type === "application/x-7z-compressed" ||
    type === "application/x-rar-compressed";
}
