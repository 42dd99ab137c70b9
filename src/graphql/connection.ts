import type { ClassType } from "type-graphql";
import { Field, ObjectType } from "type-graphql";
import { AppError } from "../errors/app-error.js";
import { ErrorCode } from "../errors/codes.js";
import { isPlausibleId } from "./validation.js";

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/** Declares `<Name>Edge` and `<Name>Connection` GraphQL types for a node type. */
export function connectionTypes<T extends object>(nodeType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return { EdgeType, ConnectionType };
}

export const maxPageSize = 500;
export const defaultPageSize = 50;

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return defaultPageSize;
  if (!Number.isInteger(first) || first < 1 || first > maxPageSize) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `"first" must be between 1 and ${maxPageSize}.`);
  }
  return first;
}

/** Cursors are opaque to clients: base64url of a small JSON tuple. */
export function encodeCursor(parts: Array<string | number>): string {
  return Buffer.from(JSON.stringify(parts), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | null | undefined, shape: Array<"string" | "number">): Array<string | number> | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(parts) && parts.length === shape.length && parts.every((part, i) => isCursorPart(part, shape[i]!))) {
      return parts as Array<string | number>;
    }
  } catch {
    // fall through
  }
  throw new AppError(ErrorCode.BAD_USER_INPUT, `"after" is not a valid cursor.`);
}

/** The largest number a cursor may carry: the last millisecond a Date can hold (and far past any seq). */
const maxCursorNumber = 8.64e15;

/** What our cursors hold: non-negative integers (times in ms, sequence numbers) and ids. */
function isCursorPart(part: unknown, kind: "string" | "number"): boolean {
  if (kind === "number") return typeof part === "number" && Number.isSafeInteger(part) && part >= 0 && part <= maxCursorNumber;
  return typeof part === "string" && isPlausibleId(part);
}

/** Builds a connection from `limit + 1` fetched rows. */
export function toConnection<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Connection<T> {
  const hasNextPage = rows.length > limit;
  const page = hasNextPage ? rows.slice(0, limit) : rows;
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null } };
}
