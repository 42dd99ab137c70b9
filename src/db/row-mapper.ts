import { JsonType, type EntityClass, type MetadataStorage } from "@mikro-orm/core";
import { detachedEntity } from "./detached-entity.js";
import type { SqlRow, SqlValue } from "./database.js";

type ColumnKind = "date" | "boolean" | "number" | "json" | "other";

interface Column {
  property: string;
  name: string;
  kind: ColumnKind;
}

interface EntityColumns {
  table: string;
  columns: Column[];
  insertText: string;
  /** Whether a value must be converted on its way in (JSON columns are written as their text). */
  convertsOnInsert: boolean;
}

/**
 * Maps rows of hand-written SQL to entity objects and entity objects to INSERTs, from MikroORM's
 * own metadata, so both follow the entities. The objects are plain instances of the entity class,
 * outside any unit of work: nothing writes them back behind the caller's back.
 */
export class RowMapper {
  private readonly byEntity = new Map<EntityClass<object>, EntityColumns>();
  private readonly selectLists = new Map<string, string>();

  constructor(private readonly metadata: MetadataStorage) {}

  /** `prefix`: the entity's columns were selected as `<prefix><column>` (see `selectList`, `joinedPrefix`). */
  toEntity<T extends object>(entity: EntityClass<T>, row: SqlRow, prefix = ""): T {
    const { columns } = this.columnsOf(entity);
    const values: Record<string, unknown> = {};
    for (const column of columns) values[column.property] = fromColumn(row[prefix + column.name], column.kind);
    return detachedEntity(entity, values as Partial<T>);
  }

  /** `alias.column as alias__column, ...` for every column of `entity`: a second entity in a joined row. */
  selectList(entity: EntityClass<object>, alias: string): string {
    const key = `${entity.name} ${alias}`;
    let list = this.selectLists.get(key);
    if (list === undefined) {
      const prefix = joinedPrefix(alias);
      list = this.columnsOf(entity)
        .columns.map((column) => `${alias}.${column.name} as ${prefix}${column.name}`)
        .join(", ");
      this.selectLists.set(key, list);
    }
    return list;
  }

  /** An INSERT of every column, and its parameters. */
  insert<T extends object>(entity: EntityClass<T>, value: T): { text: string; params: SqlValue[] } {
    const { columns, insertText, convertsOnInsert } = this.columnsOf(entity);
    const record = value as Record<string, unknown>;
    const params = convertsOnInsert
      ? columns.map((column) => toColumn(record[column.property] ?? null, column.kind))
      : columns.map((column) => (record[column.property] ?? null) as SqlValue);
    return { text: insertText, params };
  }

  private columnsOf(entity: EntityClass<object>): EntityColumns {
    let found = this.byEntity.get(entity);
    if (!found) {
      const meta = this.metadata.get(entity.name);
      const columns = meta.props
        .filter((prop) => prop.persist !== false && prop.fieldNames?.length === 1)
        .map((prop) => ({
          property: prop.name,
          name: prop.fieldNames[0]!,
          kind: prop.customType instanceof JsonType ? ("json" as const) : kindOf(prop.runtimeType, prop.type),
        }));
      const names = columns.map((column) => column.name).join(", ");
      const placeholders = columns.map(() => "?").join(", ");
      found = {
        table: meta.tableName,
        columns,
        insertText: `insert into ${meta.tableName} (${names}) values (${placeholders})`,
        convertsOnInsert: columns.some((column) => column.kind === "json"),
      };
      this.byEntity.set(entity, found);
    }
    return found;
  }
}

/** How a joined entity's columns are named in a row: `<alias>__<column>`. */
export function joinedPrefix(alias: string): string {
  return `${alias}__`;
}

function kindOf(runtimeType: string | undefined, type: unknown): ColumnKind {
  const name = String(runtimeType ?? type).toLowerCase();
  if (name === "date" || name === "datetime") return "date";
  if (name === "boolean") return "boolean";
  if (name === "number" || name === "integer") return "number";
  return "other";
}

function fromColumn(value: unknown, kind: ColumnKind): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "date":
      return toDate(value);
    case "boolean":
      return value === true || value === 1 || value === "1" || value === "t" || value === "true";
    case "number":
      return Number(value);
    case "json":
      // PostgreSQL's driver parses json columns itself; SQLite keeps the text.
      return typeof value === "string" ? JSON.parse(value) : value;
    default:
      return value;
  }
}

/** As MikroORM writes them: a JSON column holds the value's JSON text. */
function toColumn(value: unknown, kind: ColumnKind): SqlValue {
  if (kind === "json" && value !== null) return JSON.stringify(value);
  return value as SqlValue;
}

/** SQLite keeps datetimes as epoch milliseconds; PostgreSQL hands timestamptz back as text. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  const text = String(value);
  if (/^\d+$/.test(text)) return new Date(Number(text));
  // "2026-11-25 06:00:00.123+00" → ISO 8601
  return new Date(text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
}
