// Deterministic behaviour switches embedded in the last user message, e.g. "[sim:429]" or "[sim:len=50]".

export interface SimMarkers {
  status?: 429 | 500 | 503;
  timeout: boolean;
  truncate: boolean;
  refuse: boolean;
  slowMs: number;
  length?: number;
  difficulty: number;
  tool?: string; // "" = first tool
}

const NONE: SimMarkers = Object.freeze({ timeout: false, truncate: false, refuse: false, slowMs: 0, difficulty: 0 });
const MARKER_RE = /\[sim:([a-z0-9]+)(?:=([^\]]*))?\]/g;

/** Difficulty of a "[sim:hard]" prompt: models with skill below it answer poorly. */
export const HARD_DIFFICULTY = 0.7;

export function parseMarkers(text: string): SimMarkers {
  if (!text.includes("[sim:")) return NONE;
  const m: SimMarkers = { ...NONE };
  for (const match of text.matchAll(MARKER_RE)) {
    const key = match[1] ?? "";
    const value = match[2];
    switch (key) {
      case "hard":
        m.difficulty = Math.max(m.difficulty, HARD_DIFFICULTY);
        break;
      case "difficulty": {
        const d = Number(value);
        if (Number.isFinite(d)) m.difficulty = Math.max(m.difficulty, d);
        break;
      }
      case "timeout":
        m.timeout = true;
        break;
      case "truncate":
        m.truncate = true;
        break;
      case "refuse":
        m.refuse = true;
        break;
      case "slow": {
        const ms = Number(value);
        if (Number.isFinite(ms) && ms > 0) m.slowMs = ms;
        break;
      }
      case "len": {
        const n = Number(value);
        if (Number.isInteger(n) && n > 0) m.length = Math.min(n, 100_000);
        break;
      }
      case "tool":
        m.tool = value ?? "";
        break;
      default: {
        const status = Number(key);
        if (status === 429 || status === 500 || status === 503) m.status = status;
      }
    }
  }
  return m;
}
