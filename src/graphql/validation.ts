import { AppError } from "../errors/app-error.js";
import { ErrorCode } from "../errors/codes.js";

function bad(message: string): AppError {
  return new AppError(ErrorCode.BAD_USER_INPUT, message);
}

/** Characters as a reader counts them (code points), not UTF-16 units: an emoji is one. */
function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** At most `max` characters of `value`, never splitting a character. */
export function clipCharacters(value: string, max: number): string {
  if (value.length <= max) return value;
  return Array.from(value).slice(0, max).join("");
}

function longerThan(value: string, max: number): boolean {
  // UTF-16 length is never less than the character count: most strings need no counting.
  return value.length > max && characterCount(value) > max;
}

/** Trims and checks a required string's length (in characters). */
export function requiredText(value: string | null | undefined, field: string, max: number): string {
  const trimmed = (value ?? "").trim();
  if (trimmed.length < 1) throw bad(`"${field}" must not be empty.`);
  if (longerThan(trimmed, max)) throw bad(`"${field}" must be at most ${max} characters.`);
  return trimmed;
}

export function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed.length === 0) return null;
  if (longerThan(trimmed, max)) throw bad(`"${field}" must be at most ${max} characters.`);
  return trimmed;
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function email(value: string | null | undefined, field = "email"): string {
  const normalized = requiredText(value, field, 320).toLowerCase();
  if (!emailPattern.test(normalized)) throw bad(`"${field}" must be an email address.`);
  return normalized;
}

/** An absolute http(s) URL. */
export function httpUrl(value: string | null | undefined, field: string): URL {
  const text = requiredText(value, field, 2048);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`"${field}" must be an absolute http(s) URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad(`"${field}" must be an http(s) URL.`);
  // The WHATWG parser reads "https:///host" as "https://host/": ask for the host where it belongs.
  if (!/^https?:\/\/[^/?#\\]/i.test(text)) throw bad(`"${field}" must name a host after "//".`);
  if (url.username || url.password) throw bad(`"${field}" must not contain credentials.`);
  return url;
}

export function intInRange(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw bad(`"${field}" must be an integer between ${min} and ${max}.`);
  }
  return value;
}

const plausibleId = /^[^\u0000-\u001f\u007f]{1,64}$/;

/** IDs are short opaque strings without control characters; anything else cannot name a row. */
export function isPlausibleId(value: string): boolean {
  return plausibleId.test(value);
}
