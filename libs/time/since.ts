// Time windows given on the command line, in query strings and in reports: an ISO time or a relative
// `7d` / `24h` / `30m` back from now. One parser for the CLIs and the edge's routes.

/** `since` as an ISO time or `7d` / `24h` / `30m` before `now`; undefined when it is neither. */
export function parseSince(input: string, now: number | Date = Date.now()): Date | undefined {
  const rel = /^(\d+)\s*([dhm])$/i.exec(input.trim());
  if (rel) {
    const unit = rel[2]!.toLowerCase();
    const ms = unit === "d" ? 86_400_000 : unit === "h" ? 3_600_000 : 60_000;
    const d = new Date(Number(now) - Number(rel[1]) * ms);
    // 10^9 days back is not a date (toISOString would throw).
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  const t = Date.parse(input);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** parseSince for command lines: an unreadable value is an error naming the forms. */
export function requireSince(input: string, now: number | Date = Date.now()): Date {
  const d = parseSince(input, now);
  if (!d) throw new Error(`invalid since "${input}": use an ISO time or 7d / 24h / 30m`);
  return d;
}
