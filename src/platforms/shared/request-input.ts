// Reading the parts of an HTTP request a verifier needs, in the shapes Koa hands them over
// (`ctx.headers`: IncomingHttpHeaders, `ctx.query`: ParsedUrlQuery). Values are used as given: never re-decode
// a query value (WeCom's echostr contains '+', which a second decode turns into a space).
import { VerificationError } from './errors.ts';

export type ParamBag = Readonly<Record<string, string | readonly string[] | undefined>>;

function single(value: string | readonly string[] | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  throw new VerificationError('malformed_request', `${name} given ${value.length} times`);
}

/** One header value by case-insensitive name; a repeated header is malformed. */
export function headerValue(headers: ParamBag, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower in headers) return single(headers[lower], name);
  const key = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : single(headers[key], name);
}

/** The first present of `names` (platforms spell some parameters two ways); a repeated parameter is malformed. */
export function queryValue(query: ParamBag, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = single(query[name], name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Like queryValue, but a missing or empty parameter is a malformed request. */
export function requiredQueryValue(query: ParamBag, ...names: string[]): string {
  const value = queryValue(query, ...names);
  if (!value) throw new VerificationError('malformed_request', `query parameter ${names.join('/')} is missing`);
  return value;
}

export type JsonObject = Record<string, unknown>;

/** Parses text that must be one JSON object; anything else is `malformed_body`. */
export function parseJsonObject(text: string, what = 'body'): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VerificationError('malformed_body', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VerificationError('malformed_body', `${what} is not a JSON object`);
  }
  return value as JsonObject;
}
