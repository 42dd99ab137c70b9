import type { IncomingMessage } from "node:http";
import { decodeUtf8, notUtf8Message } from "./utf8-text.js";

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes.`);
  }
}

export class BodyNotUtf8Error extends Error {
  constructor() {
    super(notUtf8Message);
  }
}

/** Reads a request body as UTF-8 text: refuses other bytes, and (without buffering the rest) a body past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      const text = decodeUtf8(Buffer.concat(chunks));
      if (text === null) reject(new BodyNotUtf8Error());
      else resolve(text);
    });
    req.on("error", reject);
  });
}
