/** The message both kinds of request text give when their bytes are not UTF-8. */
export const notUtf8Message = "The request is not valid UTF-8.";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * `bytes` as UTF-8 text, or null when they are not valid UTF-8 (a stray or truncated sequence, an
 * overlong form, an encoded surrogate). A lenient decode would store U+FFFD in place of what was sent.
 */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Whether a URL's query string percent-decodes to valid UTF-8. URLSearchParams decodes leniently
 * (U+FFFD); decodeURIComponent refuses invalid sequences, once a `%` that starts no escape (which
 * URLSearchParams keeps as it is) is escaped itself.
 */
export function percentDecodesToUtf8(search: string): boolean {
  try {
    decodeURIComponent(search.replace(/%(?![0-9A-Fa-f]{2})/g, "%25"));
    return true;
  } catch {
    return false;
  }
}
