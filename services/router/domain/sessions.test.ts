import { describe, expect, it } from "vitest";
import { SessionStore } from "./sessions.ts";

describe("SessionStore", () => {
  it("drops the least recently recorded session past maxSessions; get does not refresh it", () => {
    let now = 0;
    const s = new SessionStore({ ttlMs: 1_000, warmCacheMs: 100, maxSessions: 2 }, () => now);
    s.record("a", "LOW", "p", "m");
    s.record("b", "LOW", "p", "m");
    expect(s.get("a")?.tier).toBe("LOW"); // a read, not a record: "a" stays the oldest
    s.record("c", "LOW", "p", "m");
    expect(s.get("a")).toBeUndefined();
    s.record("b", "MEDIUM", "p", "m"); // recorded again: now the newest
    s.record("d", "LOW", "p", "m");
    expect(s.get("c")).toBeUndefined();
    expect(s.get("b")?.tier).toBe("MEDIUM");
    expect(s.get("d")?.tier).toBe("LOW");
  });

  it("forgets a session past its TTL and keeps one even with maxSessions 0", () => {
    let now = 0;
    const s = new SessionStore({ ttlMs: 1_000, warmCacheMs: 100, maxSessions: 0 }, () => now);
    s.record("a", "LOW", "p", "m");
    s.record("b", "HIGH", "p", "m");
    expect(s.get("a")).toBeUndefined();
    const b = s.get("b");
    if (!b) throw new Error("session b missing");
    expect(b.tier).toBe("HIGH");
    expect(s.isWarm(b)).toBe(true);
    now = 500;
    expect(s.isWarm(b)).toBe(false);
    now = 1_001;
    expect(s.get("b")).toBeUndefined();
  });
});
