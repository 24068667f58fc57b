/** The first UTC midnight at or after `t`: rollup days start here, the partial day before it is read raw. */
export function nextUtcMidnight(t: Date): Date {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  return d.getTime() === t.getTime() ? d : new Date(d.getTime() + 86_400_000);
}
