import { HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import { GraphQLError } from "graphql";

/**
 * Subscriptions are served over WebSocket only. Over HTTP, Apollo would run the subscription field
 * as a query field, which returns nothing, and answer INTERNAL_SERVER_ERROR: refuse it as the
 * client's mistake instead, before anything executes.
 */
export const refuseSubscriptionsOverHttp: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation !== "subscription") return;
        throw new GraphQLError("Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over HTTP.", {
          extensions: { code: "BAD_REQUEST", http: { status: 400, headers: new HeaderMap() } },
        });
      },
    };
  },
};
