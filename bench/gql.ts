/** A tiny GraphQL-over-HTTP client for seeding and for the fan-out mutations. */
export interface Credential {
  headers: Record<string, string>;
  /** The same credential as graphql-ws connectionParams. */
  connectionParams: Record<string, string>;
}

export function bearer(apiKey: string): Credential {
  const authorization = `Bearer ${apiKey}`;
  return { headers: { authorization }, connectionParams: { authorization } };
}

export function basic(projectId: string, secret: string): Credential {
  const authorization = `Basic ${Buffer.from(`${projectId}:${secret}`).toString("base64")}`;
  return { headers: { authorization }, connectionParams: { authorization } };
}

export function graphqlBody(query: string, variables: Record<string, unknown> = {}): string {
  return JSON.stringify({ query, variables });
}

export const jsonHeaders = { "content-type": "application/json" } as const;

/** POSTs one operation; throws on a transport error or any GraphQL error. */
export async function gql<T = Record<string, unknown>>(url: string, credential: Credential, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...jsonHeaders, ...credential.headers },
    body: graphqlBody(query, variables),
  });
  const text = await response.text();
  let parsed: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  if (parsed.errors?.length || !parsed.data) {
    const first = parsed.errors?.[0];
    throw new Error(`GraphQL error ${first?.extensions?.code ?? ""}: ${first?.message ?? text.slice(0, 300)}`);
  }
  return parsed.data;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
