// The OpenAPI 3.1 document of the app, generated from its routers: every route's `doc(...)` (src/inbound/route-doc.ts)
// gives its zod schemas, the router it sits on gives who may call it. Served at GET /api/v1/openapi.json (no auth),
// with an API reference page at /docs (Swagger UI from node_modules).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { doc, docOf, ErrorBody, type ResponseDoc, type RouteDoc } from '../inbound/route-doc.ts';
import { AdminRouter } from './auth.ts';

type Json = Record<string, unknown>;

export interface Operation {
  method: string;
  /** the router's path, e.g. /api/v1/customers/:id */
  path: string;
  doc: RouteDoc | undefined;
  access: 'anyone' | 'users' | 'admins' | 'platform' | 'session';
}

/** Every (method, route) of the routers, HEAD left out, with its documentation and who may call it. */
export function operationsOf(routers: readonly Router[]): Operation[] {
  const seen = new Map<string, Operation>();
  for (const router of routers) {
    for (const layer of router.stack) {
      if (typeof layer.path !== 'string') continue;
      for (const method of layer.methods) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        const doc = docOf(layer.stack);
        const access = router instanceof AdminRouter ? router.accessOf(method, layer.path) : (doc?.auth === 'platform' ? 'platform' : doc?.auth === 'session' ? 'session' : 'anyone');
        seen.set(`${method} ${layer.path}`, { method, path: layer.path, doc, access });
      }
    }
  }
  return [...seen.values()];
}

const ERROR_REF = { $ref: '#/components/responses/Error' };

/**
 * The zod schemas of the document as JSON Schema (draft 2020-12, which OpenAPI 3.1 uses): the named ones
 * (`.meta({ id })`, wherever they are nested) become components, each referenced as `#/components/schemas/<id>`.
 */
class Schemas {
  readonly named = new Map<string, Json>();
  #unnamed = 0;

  /** the JSON Schema of `schema` as a request (`input`: defaults optional, coercions) or an answer reads it */
  use(schema: z.ZodType, io: 'input' | 'output'): Json {
    const out = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline', cycles: 'ref' }) as Json;
    const defs = (out.$defs ?? {}) as Record<string, Json>;
    delete out.$defs;
    delete out.$schema;
    // definitions without a name of their own (cycles) get one unique in the document
    const rename = new Map(Object.keys(defs).map((k) => [k, k.startsWith('__') ? `Schema${++this.#unnamed}` : k]));
    const fix = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(fix);
      if (!v || typeof v !== 'object') return v;
      const o = Object.fromEntries(Object.entries(v as Json).filter(([k, x]) => !((k === 'id' || k === '$id') && typeof x === 'string')).map(([k, x]) => [k, fix(x)]));
      if (typeof o.$ref === 'string') {
        const m = /^#\/\$defs\/(.+)$/.exec(o.$ref);
        if (m) o.$ref = `#/components/schemas/${rename.get(m[1]!) ?? m[1]}`;
      }
      return o;
    };
    for (const [k, def] of Object.entries(defs)) this.#put(rename.get(k)!, fix(def) as Json, io);
    const root = fix(out) as Json;
    const id = z.globalRegistry.get(schema)?.id;
    if (!id) return root;
    // zod may answer a named root as a reference to its own definition
    if (root.$ref !== `#/components/schemas/${id}`) this.#put(id, root, io);
    return { $ref: `#/components/schemas/${id}` };
  }

  /** one schema a name: the same name read two ways (a request's input, an answer's output) must be two names */
  #put(id: string, schema: Json, io: 'input' | 'output'): void {
    const prev = this.named.get(id);
    // a component is kept as the answers read it
    if (!prev || io === 'output') this.named.set(id, schema);
  }

  build(): Record<string, Json> {
    return Object.fromEntries([...this.named].sort(([a], [b]) => a.localeCompare(b)));
  }
}

function responseOf(schemas: Schemas, r: ResponseDoc, status: number): Json {
  if (r instanceof z.ZodType) return { description: r.description ?? z.globalRegistry.get(r)?.description ?? statusText(status), content: { 'application/json': { schema: schemas.use(r, 'output') } } };
  const content = r.schema ? { [r.contentType ?? 'application/json']: { schema: schemas.use(r.schema, 'output') } } : r.contentType ? { [r.contentType]: {} } : undefined;
  return { description: r.description, ...(content ? { content } : {}) };
}

/** A body in one content type: JSON and YAML as the schema; NDJSON one array element a line; CSV one row a line. */
function bodyContent(schemas: Schemas, body: z.ZodType, type: string): Json {
  const element = body instanceof z.ZodArray ? (body.element as z.ZodType) : undefined;
  if (type === 'application/json' || type === 'application/yaml') return { schema: schemas.use(body, 'input') };
  if (type === 'application/x-ndjson' && element) return { schema: schemas.use(element, 'input'), 'x-description': 'one JSON object a line, each as this schema' };
  if (type === 'text/csv') return { schema: { type: 'string' }, 'x-description': 'a header line, then one row a line; columns named by the import map (config/import.yaml)' };
  return { schema: { type: 'string' } };
}

function statusText(status: number): string {
  return ({ 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content', 302: 'Redirect', 304: 'Not modified' } as Record<number, string>)[status] ?? String(status);
}

const ACCESS_TEXT: Record<Operation['access'], string> = {
  anyone: 'No authentication.',
  admins: 'Admins: the admin token, or the console session of an org admin.',
  users: "Every org user with a console session (reps and managers see only their own scope), and admins.",
  platform: "No bearer token: the platform's own signature and encryption.",
  session: 'The console session cookie.',
};

/** The OpenAPI document of the operations. */
export function openApiDocument(operations: readonly Operation[], info: { version: string }): Json {
  const schemas = new Schemas();
  schemas.use(ErrorBody, 'output');
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of operations) {
    const d = op.doc;
    if (!d) continue;
    const path = op.path.replace(/:(\w+)/g, '{$1}');
    const pathParams = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = d.query
      ? Object.entries(d.query.shape).map(([name, s]) => {
          const field = s as z.ZodType;
          const optional = field.safeParse(undefined).success;
          return { name, in: 'query', required: !optional, ...(field.description ? { description: field.description } : {}), schema: schemas.use(field, 'input') };
        })
      : [];
    const responses: Record<string, Json> = {};
    for (const [status, r] of Object.entries(d.responses)) responses[status] = responseOf(schemas, r, Number(status));
    const api = op.path.startsWith('/api/');
    if (api && (d.body || d.query)) responses['422'] ??= ERROR_REF;
    if (api && d.body) {
      responses['400'] ??= ERROR_REF;
      responses['413'] ??= ERROR_REF;
    }
    if (op.access === 'admins' || op.access === 'users') {
      responses['401'] ??= ERROR_REF;
      responses['403'] ??= ERROR_REF;
    }
    if (api && pathParams.length) responses['404'] ??= ERROR_REF;
    const write = op.method !== 'GET';
    const security =
      op.access === 'admins' || op.access === 'users'
        ? [{ adminToken: [] }, write ? { consoleSession: [], csrfToken: [] } : { consoleSession: [] }]
        : op.access === 'session'
          ? [write ? { consoleSession: [], csrfToken: [] } : { consoleSession: [] }]
          : [];
    const tag = d.tag ?? (api ? (op.path.split('/')[3] ?? 'api') : op.path.split('/')[1] || 'console');
    const operation: Json = {
      operationId: `${op.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: d.summary,
      description: [d.description, ACCESS_TEXT[op.access]].filter(Boolean).join('\n\n'),
      tags: [tag],
      'x-access': op.access,
      security,
      ...(pathParams.length || query.length ? { parameters: [...pathParams, ...query] } : {}),
      ...(d.body
        ? { requestBody: { required: !d.bodyOptional, content: Object.fromEntries((d.bodyTypes ?? ['application/json']).map((t) => [t, bodyContent(schemas, d.body!, t)])) } }
        : {}),
      responses,
    };
    (paths[path] ??= {})[op.method.toLowerCase()] = operation;
  }
  const components = schemas.build();
  return {
    openapi: '3.1.1',
    info: {
      title: 'tierbot API',
      version: info.version,
      description:
        'Customer tiering for sales teams. Every error answer is `{"error": {"code", "message", "details"}}` (the `Error` schema); ' +
        'a 422 lists each problem as `{path, message}` in `details`. Bulk endpoints keep the valid rows and report each rejected row by index.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(Object.values(paths).flatMap((m) => Object.values(m).map((o) => (o.tags as string[])[0]!)))].map((name) => ({ name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: components,
      responses: { Error: { description: 'An error: the status says which kind', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer $ADMIN_TOKEN' },
        consoleSession: { type: 'apiKey', in: 'cookie', name: 'tierbot_session', description: 'the console session (from a signed card link or platform sign-in)' },
        csrfToken: { type: 'apiKey', in: 'header', name: 'x-csrf-token', description: 'with a session, every request but GET carries the value of the tierbot_csrf cookie' },
      },
    },
  };
}


/** GET /api/v1/openapi.json: the document of the routers, built once on first request. */
export function openApiRouter(gate: ConstructorParameters<typeof AdminRouter>[0], routers: () => readonly Router[], version: string): AdminRouter {
  const r = new AdminRouter(gate);
  let text: string | null = null;
  r.forAnyone.get('/openapi.json', doc({ summary: 'This document (OpenAPI 3.1)', tag: 'docs', responses: { 200: { description: 'the OpenAPI document', contentType: 'application/json' } } }), async (ctx) => {
    text ??= JSON.stringify(openApiDocument(operationsOf(routers()), { version }));
    ctx.type = 'application/json';
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = text;
  });
  return r;
}

const require = createRequire(import.meta.url);
const SWAGGER = dirname(require.resolve('swagger-ui-dist/package.json'));
const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tierbot API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="api-reference"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#api-reference', deepLinking: true, validatorUrl: null, tryItOutEnabled: false });\n`;

/** GET /docs: the API reference page, its script and styles served from node_modules (no CDN). */
export function docsRouter(): Router {
  const r = new Router();
  const page = (ctx: Context, body: string, type: string) => {
    ctx.type = type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', DOCS_CSP);
    ctx.body = body;
  };
  r.get('/docs', doc({ summary: 'The API reference page (HTML)', tag: 'docs', responses: { 200: { description: 'HTML', contentType: 'text/html' } } }), (ctx) => page(ctx, DOCS_PAGE, 'html'));
  r.get('/docs/assets/init.js', doc({ summary: "The reference page's start-up script", tag: 'docs', responses: { 200: { description: 'JavaScript', contentType: 'application/javascript' } } }), (ctx) =>
    page(ctx, DOCS_INIT, 'application/javascript; charset=utf-8'),
  );
  for (const [file, type] of [['swagger-ui-bundle.js', 'application/javascript; charset=utf-8'], ['swagger-ui.css', 'text/css; charset=utf-8']] as const) {
    let meta: { size: number; etag: string } | null = null;
    r.get(`/docs/assets/${file}`, doc({ summary: `Swagger UI's ${file}`, tag: 'docs', responses: { 200: { description: 'the file', contentType: type.split(';')[0] } } }), async (ctx) => {
      if (!meta) {
        const { size, mtimeMs } = await stat(join(SWAGGER, file));
        meta = { size, etag: `"${file}-${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}"` };
      }
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.set('ETag', meta.etag);
      ctx.type = type;
      ctx.status = 200;
      if (ctx.fresh) {
        ctx.status = 304;
        return;
      }
      ctx.length = meta.size;
      ctx.body = createReadStream(join(SWAGGER, file));
    });
  }
  return r;
}
