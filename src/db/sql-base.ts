import type { EntityClass } from "@mikro-orm/core";
import { joinedPrefix, type RowMapper } from "./row-mapper.js";
import type { JoinedEntities, Sql, SqlRow, SqlValue } from "./database.js";
import type { DatabaseKind } from "./database-url.js";

/** What every dialect's Sql shares: single rows, and entities to and from rows. */
export abstract class SqlBase implements Sql {
  abstract readonly kind: DatabaseKind;
  constructor(protected readonly rows: RowMapper) {}

  abstract all<T = SqlRow>(text: string, params?: readonly SqlValue[]): Promise<T[]>;
  abstract run(text: string, params?: readonly SqlValue[]): Promise<number>;

  async one<T = SqlRow>(text: string, params: readonly SqlValue[] = []): Promise<T | null> {
    const rows = await this.all<T>(text, params);
    return rows[0] ?? null;
  }

  async entity<T extends object>(entity: EntityClass<T>, text: string, params: readonly SqlValue[] = []): Promise<T | null> {
    const row = await this.one(text, params);
    return row ? this.rows.toEntity(entity, row) : null;
  }

  async entities<T extends object>(entity: EntityClass<T>, text: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const rows = await this.all(text, params);
    return rows.map((row) => this.rows.toEntity(entity, row));
  }

  async entityWithJoined<T extends object, J extends Record<string, EntityClass<object>>>(
    main: EntityClass<T>,
    joined: J,
    text: string,
    params: readonly SqlValue[] = [],
  ): Promise<{ main: T; joined: JoinedEntities<J> } | null> {
    const row = await this.one(text, params);
    if (!row) return null;
    const entities: Record<string, object | null> = {};
    for (const [alias, entity] of Object.entries(joined)) {
      const prefix = joinedPrefix(alias);
      entities[alias] = row[`${prefix}id`] == null ? null : this.rows.toEntity(entity, row, prefix);
    }
    return { main: this.rows.toEntity(main, row), joined: entities as JoinedEntities<J> };
  }

  joinedColumns(entity: EntityClass<object>, alias: string): string {
    return this.rows.selectList(entity, alias);
  }

  async insert<T extends object>(entity: EntityClass<T>, value: T): Promise<void> {
    const { text, params } = this.rows.insert(entity, value);
    await this.run(text, params);
  }
}
