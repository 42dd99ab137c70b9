import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";
import {
  CreateWebhookEndpointInput,
  CreateWebhookEndpointPayload,
  RotateWebhookEndpointSecretPayload,
  UpdateWebhookEndpointInput,
  WebhookDeliveryConnection,
} from "./webhook.types.js";

@Resolver()
export class WebhookResolver {
  @Authorized(Permission.ManageWebhooks)
  @Mutation(() => CreateWebhookEndpointPayload)
  createWebhookEndpoint(
    @Arg("input", () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() ctx: RequestContext,
  ): Promise<CreateWebhookEndpointPayload> {
    return ctx.services.webhooks.create(ctx, input);
  }

  @Authorized(Permission.ManageWebhooks)
  @Query(() => [WebhookEndpoint], { description: "A project's webhook endpoints, oldest first (never their secrets)." })
  webhookEndpoints(@Arg("projectId", () => ID) projectId: string, @Ctx() ctx: RequestContext): Promise<WebhookEndpoint[]> {
    return ctx.services.webhooks.list(ctx, projectId);
  }

  @Authorized(Permission.ManageWebhooks)
  @Mutation(() => WebhookEndpoint)
  updateWebhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: RequestContext,
  ): Promise<WebhookEndpoint> {
    return ctx.services.webhooks.update(ctx, id, input);
  }

  @Authorized(Permission.ManageWebhooks)
  @Mutation(() => Boolean, { description: "Deletes the endpoint with its deliveries; true when done." })
  deleteWebhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.services.webhooks.delete(ctx, id);
  }

  @Authorized(Permission.ManageWebhooks)
  @Mutation(() => RotateWebhookEndpointSecretPayload)
  rotateWebhookEndpointSecret(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<RotateWebhookEndpointSecretPayload> {
    return ctx.services.webhooks.rotateSecret(ctx, id);
  }

  @Authorized(Permission.ManageWebhooks)
  @Query(() => WebhookDeliveryConnection, { description: "A project's webhook deliveries, newest first, with their attempts." })
  webhookDeliveries(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("endpointId", () => ID, { nullable: true }) endpointId: string | null,
    @Arg("status", () => WebhookDeliveryStatus, { nullable: true }) status: WebhookDeliveryStatus | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<WebhookDeliveryConnection> {
    return ctx.services.webhooks.deliveries(ctx, { projectId, endpointId, status, first, after });
  }

  @Authorized(Permission.ManageWebhooks)
  @Mutation(() => WebhookDelivery, { description: "Re-queues a FAILED delivery for one more attempt, now." })
  retryWebhookDelivery(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<WebhookDelivery> {
    return ctx.services.webhooks.retry(ctx, id);
  }
}
