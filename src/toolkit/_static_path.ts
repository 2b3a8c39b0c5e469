// The static files' request path, checked: what a URL may name under the
// root, before the disk is asked anything. The server has already
// percent-decoded PATH_INFO (PEP 3333), so `%2e%2e` arrives as `..` and
// `%2f` as `/`, and both meet the same checks as the raw forms. What is
// left after this is a list of plain names; symlinks are checked later,
// against the real path.

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The names a relative URL path names, or null when it is hostile or not
 * a file name here: a byte above 0xFF in the native string, invalid or
 * overlong UTF-8 (the fatal decoder refuses both, RFC 3629 §3), an empty
 * segment (`//`, a leading `/`: an absolute path), `.` or `..`, a
 * backslash or colon (separators and drive letters elsewhere), NUL or any
 * control character, and a dotfile unless `dotfiles`. A trailing `/`
 * gives a last name of `""` (a directory asked for as one).
 */
export function pathNames(native: string, dotfiles: boolean): string[] | null {
  const raw = new Uint8Array(native.length);
  for (let i = 0; i < native.length; i++) {
    const code = native.charCodeAt(i);
    if (code > 0xff) return null;
    raw[i] = code;
  }
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch {
    return null;
  }
  if (text === "") return [""];
  const names = text.split("/");
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === "") {
      if (i === names.length - 1 && i > 0) continue;
      return null;
    }
    if (name === "." || name === "..") return null;
    if (/[\\:\x00-\x1f\x7f]/.test(name)) return null;
    if (!dotfiles && name.startsWith(".")) return null;
  }
  return names;
}

/** Whether `path` is `root` or inside it (both real, absolute paths). */
export function isInside(path: string, root: string): boolean {
  if (path === root) return true;
  const base = root.endsWith("/") || root.endsWith("\\") ? root : root + "/";
  return path.startsWith(base) ||
    (root.includes("\\") && path.startsWith(root + "\\"));
}

/** A name made safe for a relative Location (RFC 3986 §4.2: `./` first). */
export function locationName(name: string): string {
  return "./" + encodeURIComponent(name).replace(/%40/g, "@");
}
