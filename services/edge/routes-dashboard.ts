// The dashboard: a static page (HTML, one script, Chart.js's UMD file from its npm package: no build
// step) and one admin API document it draws from. The page asks for a key; an admin key sees every
// tenant (or one), a tenant key its own tenant only.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { projectPath } from "#libs/config/project-root.ts";
import { errors } from "#libs/errors/openai-error.ts";
import type { AuthContext } from "./auth.ts";
import { dashboardData } from "./dashboard/data.ts";
import type { EdgeDeps } from "./deps.ts";

const WINDOWS: Record<string, number> = { "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 };

// Read once at start: small files, served from memory.
const ASSETS: Record<string, { type: string; file: string }> = {
  "/dashboard": { type: "text/html; charset=utf-8", file: projectPath("services", "edge", "dashboard", "page.html") },
  "/dashboard/app.js": { type: "text/javascript; charset=utf-8", file: projectPath("services", "edge", "dashboard", "app.js") },
  "/dashboard/app.css": { type: "text/css; charset=utf-8", file: projectPath("services", "edge", "dashboard", "app.css") },
  "/dashboard/chart.umd.js": { type: "text/javascript; charset=utf-8", file: join(dirname(createRequire(import.meta.url).resolve("chart.js")), "chart.umd.min.js") },
};

export function registerDashboardRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): void {
  const cache = new Map<string, Buffer>();
  for (const [path, a] of Object.entries(ASSETS)) {
    app.get(path, async (_req, reply) => {
      let body = cache.get(path);
      if (!body) {
        body = readFileSync(a.file);
        cache.set(path, body);
      }
      void reply
        .header("content-type", a.type)
        .header("cache-control", "no-cache")
        // The page runs only its own script and Chart.js; data comes from this origin.
        .header("content-security-policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
        .header("x-content-type-options", "nosniff");
      return body;
    });
  }

  app.get<{ Querystring: { window?: string; tenant_id?: string } }>("/v1/llmgw/dashboard", async (req) => {
    const who = await authenticate(req);
    const window = req.query.window ?? "24h";
    // Only the documented windows: any other span reached PostgreSQL unchecked (a 500 past its dates),
    // and an own-property check keeps "constructor" and the like out.
    if (!Object.hasOwn(WINDOWS, window)) throw errors.badRequest(`'window' must be one of ${Object.keys(WINDOWS).join(", ")}.`, "window");
    const since = new Date(Date.now() - (WINDOWS[window] ?? 0));
    if (req.query.tenant_id !== undefined && typeof req.query.tenant_id !== "string") throw errors.badRequest("'tenant_id' must be given once.", "tenant_id");
    // A tenant key sees only its own tenant, whatever it asks for.
    const tenantId = who.admin ? (req.query.tenant_id ?? "") : who.tenantId;
    return dashboardData(deps.clients, { since, tenantId, admin: who.admin, now: new Date() });
  });
}
