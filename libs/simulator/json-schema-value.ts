// Builds a value that validates against a (practical subset of) JSON Schema, filling strings from the user's
// words where it can, so tool arguments and structured outputs look plausible and always parse.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface ValueHints {
  /** Capitalised words from the user text (likely names / places). */
  properNouns: string[];
  numbers: number[];
  text: string;
}

const STOP_CAPS = new Set(["I", "What", "Whats", "What's", "How", "When", "Where", "Who", "Why", "Which", "Can", "Could", "Please", "The", "A", "Is", "Are", "Do", "Does", "Tell", "Give", "Find", "Get", "Show", "Let", "My", "In", "On", "For"]);

export function hintsFrom(text: string): ValueHints {
  const clean = text.replace(/\[sim:[^\]]*\]/g, " ");
  // Runs of capitalised words that do not start a sentence are likely names; sentence starts are a fallback.
  const inner: string[] = [];
  const initial: string[] = [];
  let run: string[] = [];
  let runInitial = false;
  const flush = (): void => {
    const first = run[0];
    if (runInitial && run.length === 1 && first !== undefined) {
      if (!STOP_CAPS.has(first)) initial.push(first);
    } else {
      const words = (runInitial ? run.slice(1) : run).filter((w) => !STOP_CAPS.has(w));
      if (words.length > 0) inner.push(words.join(" "));
    }
    run = [];
  };
  let sentenceStart = true;
  for (const m of clean.matchAll(/[A-Za-z][A-Za-z'-]*|[.?!]/g)) {
    const w = m[0];
    if (w === "." || w === "?" || w === "!") {
      flush();
      sentenceStart = true;
      continue;
    }
    if (/^[A-Z]/.test(w)) {
      if (run.length === 0) runInitial = sentenceStart;
      run.push(w);
    } else flush();
    sentenceStart = false;
  }
  flush();
  const numbers = [...clean.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
  return { properNouns: [...inner, ...initial], numbers, text: clean.trim().slice(0, 200) };
}

function stringFor(name: string, schema: Record<string, unknown>, hints: ValueHints): string {
  const format = schema["format"];
  if (format === "date") return "2025-01-15";
  if (format === "date-time") return "2025-01-15T12:00:00Z";
  if (format === "email") return "user@example.com";
  if (format === "uri" || format === "url") return "https://example.com";
  const n = name.toLowerCase();
  if (/(city|location|place|country|name|person|company|destination|^origin$|^from$|^to$)/.test(n) && hints.properNouns.length > 0) {
    return hints.properNouns[0] ?? "Paris";
  }
  if (/(query|question|text|prompt|input|message|content|search|topic|description)/.test(n) && hints.text.length > 0) return hints.text;
  if (/unit/.test(n)) return "celsius";
  if (hints.properNouns.length > 0 && n === "") return hints.properNouns[0] ?? "example";
  return "example";
}

/** A JSON value satisfying `schema`; `name` is the property name it fills (used for hints). */
export function valueForSchema(schema: unknown, hints: ValueHints, name = "", depth = 0): Json {
  if (!isRecord(schema) || depth > 8) return "example";
  if ("const" in schema) return (schema["const"] as Json) ?? null;
  const en = schema["enum"];
  if (Array.isArray(en) && en.length > 0) return en[0] as Json;
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const alts = schema[key];
    if (Array.isArray(alts)) {
      const firstNonNull = alts.find((a) => !(isRecord(a) && a["type"] === "null")) ?? alts[0];
      if (firstNonNull !== undefined) return valueForSchema(firstNonNull, hints, name, depth + 1);
    }
  }
  let type = schema["type"];
  if (Array.isArray(type)) type = type.find((t) => t !== "null") ?? type[0];
  if (type === undefined && isRecord(schema["properties"])) type = "object";
  switch (type) {
    case "object": {
      const props = isRecord(schema["properties"]) ? schema["properties"] : {};
      const out: { [k: string]: Json } = {};
      for (const [k, sub] of Object.entries(props)) out[k] = valueForSchema(sub, hints, k, depth + 1);
      return out;
    }
    case "array": {
      const minItems = typeof schema["minItems"] === "number" ? schema["minItems"] : 1;
      const items: Json[] = [];
      for (let i = 0; i < Math.max(1, minItems); i++) items.push(valueForSchema(schema["items"], hints, name, depth + 1));
      return items;
    }
    case "integer":
    case "number": {
      const min = typeof schema["minimum"] === "number" ? schema["minimum"] : undefined;
      const max = typeof schema["maximum"] === "number" ? schema["maximum"] : undefined;
      let v = hints.numbers[0] ?? min ?? 1;
      if (type === "integer") v = Math.round(v);
      if (min !== undefined && v < min) v = min;
      if (max !== undefined && v > max) v = max;
      return v;
    }
    case "boolean":
      return true;
    case "null":
      return null;
    case "string": {
      const s = stringFor(name, schema, hints);
      const maxLength = typeof schema["maxLength"] === "number" ? schema["maxLength"] : undefined;
      return maxLength !== undefined ? s.slice(0, maxLength) : s;
    }
    default:
      return {};
  }
}
