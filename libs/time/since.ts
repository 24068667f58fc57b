// Time windows given on the command line and in reports: an ISO time or a relative `7d` / `24h` / `30m`.
/** Parses `since` as ISO time or relative `7d` / `24h` / `30m` before `now`. */
export function parseSince(input: string, now: Date = new Date()): Date {
  const rel = /^(\d+)\s*([dhm])$/i.exec(input.trim());
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2]!.toLowerCase();
    const ms = unit === "d" ? 86_400_000 : unit === "h" ? 3_600_000 : 60_000;
    return new Date(now.getTime() - n * ms);
  }
  const d = new Date(input);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid since "${input}": use an ISO time or 7d / 24h / 30m`);
  return d;
}
