import { describe, expect, it } from "vitest";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import type { AuthContext } from "./auth.ts";
import { metricsAccess } from "./metrics-access.ts";

const KEYS: Record<string, AuthContext> = { "admin-key-0123456789": { keyId: "k1", tenantId: "ops", admin: true }, "tenant-key-0123456789": { keyId: "k2", tenantId: "acme", admin: false } };
const authenticate = async (req: { headers: { authorization?: string } }): Promise<AuthContext> => {
  const k = /^Bearer\s+(.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
  const a = KEYS[k];
  if (!a) throw errors.unauthorized("Incorrect API key provided.");
  return a;
};
const status = async (guard: ReturnType<typeof metricsAccess>, authorization?: string): Promise<number> => {
  try {
    await guard({ headers: authorization ? { authorization } : {} });
    return 200;
  } catch (e) {
    return e instanceof GatewayError ? e.status : 500;
  }
};

describe("/metrics access", () => {
  it("with a metrics token: the token or an admin key, nobody else", async () => {
    const g = metricsAccess("scrape-token-0123456789", authenticate);
    expect(await status(g)).toBe(401);
    expect(await status(g, "Bearer scrape-token-0123456789")).toBe(200);
    expect(await status(g, "bearer  scrape-token-0123456789 ")).toBe(200);
    expect(await status(g, "Bearer scrape-token-012345678")).toBe(401);
    expect(await status(g, "Basic c2NyYXBl")).toBe(401);
    expect(await status(g, "Bearer admin-key-0123456789")).toBe(200);
    expect(await status(g, "Bearer tenant-key-0123456789")).toBe(403);
  });

  it("without one: an admin key only", async () => {
    const g = metricsAccess(undefined, authenticate);
    expect(await status(g)).toBe(401);
    expect(await status(g, "Bearer scrape-token-0123456789")).toBe(401);
    expect(await status(g, "Bearer admin-key-0123456789")).toBe(200);
    expect(await status(g, "Bearer tenant-key-0123456789")).toBe(403);
  });
});
