/**
 * Floor 2: the smallest Apollo Server 5 behind the same HTTP adapter src/server.ts uses
 * (src/http/graphql-http-handler.ts: node:http, the body read by hand with the front door's checks,
 * executeHTTPGraphQLRequest), with `type Query { hello: String }`, an empty context and the
 * production settings (no introspection, no landing page). Masquerade's figures are ratios to it.
 */
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { createServer } from "node:http";
import { createGraphQLHttpHandler, jsonResponse, type Route } from "../src/http/graphql-http-handler.js";

/** Masquerade's default MAX_BODY_BYTES. */
const maxBodyBytes = 1_000_000;

const apollo = new ApolloServer({
  typeDefs: "type Query { hello: String }",
  resolvers: { Query: { hello: () => "world" } },
  introspection: false,
  includeStacktraceInErrorResponses: false,
  plugins: [ApolloServerPluginLandingPageDisabled()],
});
await apollo.start();

const server = createServer(
  createGraphQLHttpHandler({
    apollo,
    context: async () => ({}),
    maxBodyBytes,
    routes: new Map<string, Route>([["/healthz", (_req, res) => jsonResponse(res, 200, { status: "ok" })]]),
    logError: (error) => console.error(error),
  }),
);
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => void apollo.stop().then(() => process.exit(0)));
  server.closeAllConnections();
});
