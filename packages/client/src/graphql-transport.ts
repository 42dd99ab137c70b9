import { MasqueradeError } from "./errors.js";

/** A document the SDK sends: its text, typed by what it returns and what it takes (codegen's string mode). */
export interface TypedDocument<TResult, TVariables> {
  toString(): string;
  /** Type-level only (the phantom types of @graphql-typed-document-node/core's DocumentTypeDecoration). */
  __apiType?: (variables: TVariables) => TResult;
}

export interface GraphQLTransportOptions {
  /** The server's GraphQL endpoint, e.g. `https://masquerade.example.com/graphql`. */
  url: string;
  /** The credential headers every request carries. */
  headers: Record<string, string>;
  /** `fetch` to use; the global one by default. */
  fetch?: typeof fetch;
  /** Milliseconds before a request is abandoned with NETWORK_ERROR (default 10 s). */
  timeoutMs?: number;
}

interface GraphQLErrorBody {
  message?: unknown;
  extensions?: { code?: unknown };
}

/** Sends one operation over HTTP POST and returns its data, or throws a MasqueradeError. */
export class GraphQLTransport {
  readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: GraphQLTransportOptions) {
    this.url = graphqlEndpoint(options.url);
    this.headers = { "content-type": "application/json", accept: "application/json", ...options.headers };
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async request<TResult, TVariables>(document: TypedDocument<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        method: "POST",
        headers: this.headers,
        body: JSON.stringify({ query: document.toString(), variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
        // Credentials travel in headers; a browser must send no cookies (the server allows none).
        credentials: "omit",
      });
    } catch (error) {
      throw new MasqueradeError("NETWORK_ERROR", `Masquerade at ${this.url} could not be reached: ${describe(error)}`, { cause: error });
    }
    let body: { data?: TResult | null; errors?: GraphQLErrorBody[] };
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw new MasqueradeError("NETWORK_ERROR", `Masquerade at ${this.url} answered HTTP ${response.status} without a GraphQL response`, { cause: error, status: response.status });
    }
    const first = body.errors?.[0];
    if (first) {
      const code = typeof first.extensions?.code === "string" ? first.extensions.code : "INTERNAL_SERVER_ERROR";
      const message = typeof first.message === "string" ? first.message : code;
      throw new MasqueradeError(code, message, { status: response.status });
    }
    if (!body.data) {
      throw new MasqueradeError("NETWORK_ERROR", `Masquerade at ${this.url} answered HTTP ${response.status} without data`, { status: response.status });
    }
    return body.data;
  }
}

/** The GraphQL endpoint for a server URL given with or without its `/graphql` path. */
export function graphqlEndpoint(url: string): string {
  const parsed = new URL(url);
  if (!parsed.pathname.endsWith("/graphql")) parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/graphql`;
  return parsed.toString();
}

/** The server's origin-relative URL for `path` (e.g. the JWKS), from its GraphQL endpoint. */
export function serverUrl(graphqlUrl: string, path: string): string {
  const parsed = new URL(graphqlUrl);
  parsed.pathname = parsed.pathname.replace(/\/graphql$/, "") + path;
  parsed.search = "";
  return parsed.toString();
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
