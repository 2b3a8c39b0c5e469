// The few Node APIs the Node shim uses (node:http, node:https and what
// they hand a request listener), declared so that neither the build nor the
// published types need @types/node.

export interface NodeSocket {
  remoteAddress?: string;
  remotePort?: number;
}
export interface NodeRequest extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  httpVersion: string;
  rawHeaders: string[];
  socket: NodeSocket;
}
export interface NodeResponse {
  writeHead(code: number, reason: string, headers: string[]): void;
  write(chunk: Uint8Array, callback?: () => void): boolean;
  end(chunk?: Uint8Array): void;
  destroy(error?: unknown): void;
  once(event: "drain" | "close", listener: () => void): void;
  on(event: "close" | "finish", listener: () => void): void;
  writableFinished: boolean;
  destroyed: boolean;
  socket: ResponseSocket | null;
}
interface ResponseSocket {
  end(): void;
  destroy(): void;
}
export interface NodeServer {
  listen(
    options: {
      port?: number;
      host?: string;
      path?: string;
      reusePort?: boolean;
    },
    callback: () => void,
  ): void;
  once(event: "error", listener: (error: Error) => void): void;
  address(): { port: number } | string | null;
  close(callback: (error?: Error) => void): void;
  closeIdleConnections(): void;
  emit(event: string, ...args: unknown[]): boolean;
  on(
    event: "request",
    listener: (req: NodeRequest, res: NodeResponse) => void,
  ): void;
  maxHeadersCount: number | null;
}
/** node:net, for its Server's own close (no idle connections closed). */
export interface NetModule {
  Server: { prototype: { close(this: NodeServer): void } };
}
export type RequestListener = (req: NodeRequest, res: NodeResponse) => void;
export interface HttpModule {
  createServer(
    options: NodeServerOptions,
    listener: RequestListener,
  ): NodeServer;
}
export interface HttpsModule {
  createServer(
    options: NodeServerOptions & { cert: string; key: string },
    listener: RequestListener,
  ): NodeServer;
}
/** The timeouts and limits http.createServer takes (nodejs.org, http). */
export interface NodeServerOptions {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
  maxHeaderSize?: number;
}

// A variable specifier keeps type checkers from resolving node:http
// (there are no Node types here), and keeps bundlers for other runtimes
// from pulling it in.
export async function nodeModule<T>(name: string): Promise<T> {
  return await import(name) as T;
}
