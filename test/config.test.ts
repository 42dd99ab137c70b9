import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { SettingError } from "../src/errors/setting-error.js";

/** loadConfig alone; test/startup.test.ts shows how the server reports these, as a process. */
function refusal(env: Record<string, string>): SettingError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingError);
    return error as SettingError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  it("has a default for every setting", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: "sqlite:./data/masquerade.sqlite",
      redisUrl: undefined,
      publicUrl: undefined,
      production: false,
      maxBodyBytes: 1_000_000,
      auditLogFile: undefined,
      webhookAllowPrivateUrls: true,
      webhookWorkerEnabled: true,
      logLevel: "info",
    });
  });

  it("treats a variable set to the empty string as unset", () => {
    const names = ["PORT", "DATABASE_URL", "REDIS_URL", "PUBLIC_URL", "NODE_ENV", "MAX_BODY_BYTES", "AUDIT_LOG_FILE", "WEBHOOK_ALLOW_PRIVATE_URLS", "WEBHOOK_WORKER", "LOG_LEVEL", "WEBHOOK_TIMEOUT_MS", "CORS_ORIGINS", "TRUST_PROXY", "SIGNING_KEY_REFRESH_MS"];
    expect(loadConfig(Object.fromEntries(names.map((name) => [name, ""])))).toEqual(loadConfig({}));
  });

  it("reads good values", () => {
    const config = loadConfig({
      PORT: "0",
      DATABASE_URL: "postgresql://app:pw@db:5432/masquerade",
      REDIS_URL: "rediss://:pw@cache:6380",
      PUBLIC_URL: "https://masquerade.example.com/",
      NODE_ENV: "production",
      MAX_BODY_BYTES: "2048",
      AUDIT_LOG_FILE: "-",
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      WEBHOOK_WORKER: "false",
      LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      port: 0,
      databaseUrl: "postgresql://app:pw@db:5432/masquerade",
      redisUrl: "rediss://:pw@cache:6380",
      publicUrl: "https://masquerade.example.com",
      production: true,
      maxBodyBytes: 2048,
      auditLogFile: "-",
      webhookAllowPrivateUrls: true,
      webhookWorkerEnabled: false,
      logLevel: "warn",
    });
  });

  it("honours an explicit WEBHOOK_ALLOW_PRIVATE_URLS either way; unset, it depends on NODE_ENV", () => {
    expect(loadConfig({ NODE_ENV: "production" }).webhookAllowPrivateUrls).toBe(false);
    expect(loadConfig({ NODE_ENV: "development", WEBHOOK_ALLOW_PRIVATE_URLS: "false" }).webhookAllowPrivateUrls).toBe(false);
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["PORT", " 4000"],
    ["MAX_BODY_BYTES", "1mb"],
    ["MAX_BODY_BYTES", "abc"],
    ["MAX_BODY_BYTES", "1e6"],
    ["MAX_BODY_BYTES", "1000000.5"],
    ["MAX_BODY_BYTES", "0"],
    ["MAX_BODY_BYTES", "999999999999"],
    ["WEBHOOK_TIMEOUT_MS", "10s"],
    ["RATE_LIMIT_FAILURE_BURST", "0"],
    ["DATABASE_URL", "mysql://x"],
    ["DATABASE_URL", "sqlite:"],
    ["DATABASE_URL", "postgres://us er:p@[x"],
    ["REDIS_URL", "localhost:6379"],
    ["REDIS_URL", "http://cache:6379"],
    ["PUBLIC_URL", "masquerade.example.com"],
    ["PUBLIC_URL", "ftp://masquerade.example.com"],
    ["PUBLIC_URL", "https://user:pw@masquerade.example.com"],
    ["PUBLIC_URL", "https://masquerade.example.com/?x=1"],
    ["NODE_ENV", "prod"],
    ["WEBHOOK_ALLOW_PRIVATE_URLS", "yes"],
    ["WEBHOOK_WORKER", "0"],
    ["LOG_LEVEL", "loud"],
    ["LOG_LEVEL", "INFO"],
    ["CORS_ORIGINS", "app.example.com"],
    ["CORS_ORIGINS", "https://app.example.com/path"],
    ["CORS_ORIGINS", "https://app.example.com/?x=1"],
    ["CORS_ORIGINS", "https://user:pw@app.example.com/"],
    ["SIGNING_KEY_REFRESH_MS", "60001"],
    ["TRUST_PROXY", "true"],
    ["TRUST_PROXY", "101"],
    ["TRUST_PROXY", "10.0.0.0/99"],
  ])("refuses %s=%s, naming the variable", (name, value) => {
    const error = refusal({ [name]: value });
    expect(error.variable).toBe(name);
    expect(error.message.startsWith(`${name} `)).toBe(true);
  });

  it.each([
    ["PORT", "s3cr3t"],
    ["MAX_BODY_BYTES", "s3cr3t"],
    ["NODE_ENV", "s3cr3t"],
    ["LOG_LEVEL", "s3cr3t"],
    ["WEBHOOK_WORKER", "s3cr3t"],
    ["DATABASE_URL", "postgres://app:s3cr3t@[db"],
    ["DATABASE_URL", "mysql://app:s3cr3t@db"],
    ["REDIS_URL", "http://:s3cr3t@cache"],
    ["PUBLIC_URL", "https://app:s3cr3t@masquerade.example.com"],
    ["CORS_ORIGINS", "https://app.example.com,s3cr3t"],
    ["CORS_ORIGINS", "https://app.example.com/s3cr3t"],
    ["CORS_ORIGINS", "https://app.example.com/?key=s3cr3t"],
    ["CORS_ORIGINS", "https://app:s3cr3t@app.example.com/"],
    ["TRUST_PROXY", "s3cr3t"],
  ])("never repeats the value of %s (it may be a secret in the wrong place)", (name, value) => {
    expect(refusal({ [name]: value }).message).not.toContain("s3cr3t");
  });

  it("says that sizes take plain digits, without a unit", () => {
    expect(refusal({ MAX_BODY_BYTES: "1mb" }).message).toBe(
      'MAX_BODY_BYTES must be a whole number from 1024 to 104857600 in plain digits, without a unit (such as "mb") or sign',
    );
  });
});
