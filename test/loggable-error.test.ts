import { DriverException, UniqueConstraintViolationException } from "@mikro-orm/core";
import { describe, expect, it } from "vitest";
import { loggableError } from "../src/errors/loggable-error.js";

describe("what the server log shows of an unexpected error", () => {
  it("keeps a driver error's own words but never its statement and the values written into it", () => {
    const failed = new Error("insert into `users` (`email`, `name`) values ('jane@customer.com', 'Jane') - SQLITE_CONSTRAINT: UNIQUE constraint failed");
    for (const error of [new DriverException(failed), new UniqueConstraintViolationException(failed)]) {
      const logged = loggableError(error);
      expect(logged).toContain("SQLITE_CONSTRAINT: UNIQUE constraint failed");
      expect(logged).toContain("(statement omitted)");
      expect(logged).not.toContain("jane@customer.com");
      expect(logged).not.toMatch(/insert into/i);
      expect(logged).toMatch(/\n\s+at /); // the stack frames stay, for whoever debugs it
    }
  });

  it("also cuts the statement from a driver error that reached us unconverted (knex prefixes it)", () => {
    const raw = Object.assign(new Error(`select "a0".* from "audit_events" as "a0" where "a0"."project_id" = 'project-1' - date/time field value out of range`), { name: "error" });
    const logged = loggableError(raw);
    expect(logged).toContain("date/time field value out of range");
    expect(logged).not.toContain("project-1");
    expect(logged).not.toMatch(/select/i);
  });

  it("shows any other error with its name, message and frames", () => {
    const logged = loggableError(new TypeError("cannot read x of undefined"));
    expect(logged.split("\n")[0]).toBe("TypeError: cannot read x of undefined");
    expect(logged).toMatch(/\n\s+at /);
    expect(loggableError("plain")).toBe("plain");
  });
});
