import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Decimal } from "decimal.js";
import { parse } from "yaml";
import { z } from "zod";
import { ratePerTokenPico } from "./money.ts";

/** Rates in USD per 1M tokens, exact decimals. */
export interface ModelPrice {
  model: string;
  provider: string;
  effectiveFrom: Date;
  input: Decimal;
  cachedInput: Decimal;
  cacheWrite5m: Decimal;
  cacheWrite1h: Decimal;
  output: Decimal;
  reasoning: Decimal;
  /** Fraction taken off a batch call (0.5 = half price). */
  batchDiscount: Decimal;
}

/** A price's rates in pico-USD per token (integers), for exact cost without decimal.js. */
export interface PicoRates {
  input: number;
  cachedInput: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  output: number;
  reasoning: number;
}

/**
 * Rates of the prices a table loaded, converted once at load. Keyed by the price object itself, so a
 * ModelPrice made or copied elsewhere has no entry and is costed with decimal.js, never with stale rates.
 */
const picoByPrice = new WeakMap<ModelPrice, PicoRates>();

/** The integer rates of a price from a loaded table; undefined when a rate has more than 6 decimals. */
export function picoRates(p: ModelPrice): PicoRates | undefined {
  return picoByPrice.get(p);
}

function toPicoRates(p: ModelPrice): PicoRates | undefined {
  const input = ratePerTokenPico(p.input);
  const cachedInput = ratePerTokenPico(p.cachedInput);
  const cacheWrite5m = ratePerTokenPico(p.cacheWrite5m);
  const cacheWrite1h = ratePerTokenPico(p.cacheWrite1h);
  const output = ratePerTokenPico(p.output);
  const reasoning = ratePerTokenPico(p.reasoning);
  if (input === undefined || cachedInput === undefined || cacheWrite5m === undefined || cacheWrite1h === undefined || output === undefined || reasoning === undefined) {
    return undefined;
  }
  return { input, cachedInput, cacheWrite5m, cacheWrite1h, output, reasoning };
}

// YAML numbers arrive as JS numbers; String(0.15) === "0.15", so the decimal stays exact.
const rate = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    try {
      const d = new Decimal(String(v));
      if (d.isNegative()) throw new Error("negative");
      return d;
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a non-negative decimal: ${String(v)}` });
      return z.NEVER;
    }
  });

const day = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `bad date: ${String(v)}` });
    return z.NEVER;
  }
  return d;
});

const versionSchema = z
  .object({
    effective_from: day,
    input: rate,
    output: rate,
    cached_input: rate.optional(),
    cache_write_5m: rate.optional(),
    cache_write_1h: rate.optional(),
    reasoning: rate.optional(),
    batch_discount: rate.optional(),
  })
  .strict()
  .refine((v) => v.batch_discount === undefined || v.batch_discount.lte(1), {
    message: "batch_discount must be a fraction in [0, 1]",
    path: ["batch_discount"],
  });

const modelSchema = z
  .object({
    provider: z.string().min(1),
    aliases: z.array(z.string().min(1)).default([]),
    versions: z.array(versionSchema).min(1),
  })
  .strict();

export const priceFileSchema = z.object({ models: z.record(z.string().min(1), modelSchema) }).strict();
export type PriceFile = z.input<typeof priceFileSchema>;

/** Versioned price table: the version in force at the call time applies. */
export class PriceTable {
  /** model id (and aliases) → versions sorted by effectiveFrom ascending */
  private readonly byModel = new Map<string, ModelPrice[]>();

  private constructor() {}

  static fromObject(raw: unknown): PriceTable {
    const parsed = priceFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue ? issue.path.join(".") : "";
      throw new Error(`invalid price table at "${path}": ${issue?.message ?? parsed.error.message}`);
    }
    const table = new PriceTable();
    for (const [model, spec] of Object.entries(parsed.data.models)) {
      const versions = spec.versions
        .map((v): ModelPrice => ({
          model,
          provider: spec.provider,
          effectiveFrom: v.effective_from,
          input: v.input,
          output: v.output,
          cachedInput: v.cached_input ?? v.input,
          cacheWrite5m: v.cache_write_5m ?? v.input.mul("1.25"),
          cacheWrite1h: v.cache_write_1h ?? v.input.mul(2),
          reasoning: v.reasoning ?? v.output,
          batchDiscount: v.batch_discount ?? new Decimal(0),
        }))
        .sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime());
      for (const v of versions) {
        const pico = toPicoRates(v);
        if (pico) picoByPrice.set(v, pico);
      }
      for (const id of [model, ...spec.aliases]) {
        if (table.byModel.has(id)) throw new Error(`invalid price table: model id "${id}" defined twice`);
        table.byModel.set(id, versions);
      }
    }
    return table;
  }

  static fromYaml(text: string): PriceTable {
    // Dates stay strings (yaml core schema) and are parsed by zod as UTC days.
    return PriceTable.fromObject(parse(text));
  }

  static fromFile(path: string): PriceTable {
    return PriceTable.fromYaml(readFileSync(path, "utf8"));
  }

  /** Canonical id of a model or alias (dated snapshots → family id); unknown ids unchanged. */
  canonical(model: string): string {
    return this.byModel.get(model)?.[0]?.model ?? model;
  }

  /** The model ids (canonical and aliases) that have a price. */
  models(): string[] {
    return [...this.byModel.keys()];
  }

  /** Price in force for `model` at `at`, or undefined when the model has no price then. */
  priceAt(model: string, at: Date): ModelPrice | undefined {
    const versions = this.byModel.get(model);
    if (!versions) return undefined;
    let found: ModelPrice | undefined;
    for (const v of versions) {
      if (v.effectiveFrom.getTime() <= at.getTime()) found = v;
      else break;
    }
    return found;
  }
}

export const DEFAULT_PRICES_PATH = "deploy/config/prices.yaml";

/** Loads deploy/config/prices.yaml (relative to cwd unless absolute); fails fast with the bad key. */
export function loadPriceTable(path: string = DEFAULT_PRICES_PATH): PriceTable {
  return PriceTable.fromFile(resolve(process.cwd(), path));
}
