import { Decimal } from "decimal.js";
import { z } from "zod";
import { costWithPrice } from "#libs/pricing/cost.ts";
import type { PriceTable } from "#libs/pricing/price-table.ts";
import { usage } from "#libs/pricing/usage-types.ts";

// OpenAI organization exports: /v1/organization/costs and /v1/organization/usage/completions pages.
const costResult = z.object({
  object: z.literal("organization.costs.result"),
  amount: z.object({ value: z.union([z.number(), z.string()]), currency: z.string() }),
  line_item: z.string().nullable().optional(),
  project_id: z.string().nullable().optional(),
});
const usageResult = z.object({
  object: z.literal("organization.usage.completions.result"),
  model: z.string().nullable().optional(),
  input_tokens: z.number().default(0),
  input_cached_tokens: z.number().default(0),
  output_tokens: z.number().default(0),
  num_model_requests: z.number().default(0),
  batch: z.boolean().nullable().optional(),
});
const bucket = z.object({
  object: z.literal("bucket"),
  start_time: z.number(),
  end_time: z.number(),
  results: z.array(z.union([costResult, usageResult, z.object({ object: z.string() }).passthrough()])),
});
const page = z.object({ object: z.literal("page"), data: z.array(bucket) }).passthrough();
/** One page, or an array of pages (costs and usage exports concatenated). */
export const exportSchema = z.union([page, z.array(page)]);

export interface ProviderDayModel {
  day: string;
  model: string;
  costUsd: Decimal;
  /** Cost implied by the usage export at our list prices (null when no usage rows or unpriced). */
  usageCostUsd: Decimal | null;
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

export interface LedgerDayModel {
  day: string;
  model: string;
  costUsd: string;
  calls: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

export interface ReconRow {
  day: string;
  model: string;
  providerUsd: string;
  providerUsageUsd: string;
  ledgerUsd: string;
  diffUsd: string;
  providerRequests: number;
  ledgerCalls: number;
  providerPromptTokens: number;
  ledgerPromptTokens: number;
  providerOutputTokens: number;
  ledgerOutputTokens: number;
}

const dayOf = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString().slice(0, 10);

/** "gpt-4o-mini-2024-07-18, input" → "gpt-4o-mini-2024-07-18". */
export const modelOfLineItem = (lineItem: string): string => lineItem.split(",")[0]!.trim();

export function parseProviderExport(raw: unknown, prices: PriceTable): { rows: ProviderDayModel[]; from: string; to: string } {
  const parsed = exportSchema.parse(raw);
  const pages = Array.isArray(parsed) ? parsed : [parsed];
  const map = new Map<string, ProviderDayModel>();
  let from = "9999-12-31";
  let to = "0000-01-01";
  const get = (day: string, model: string): ProviderDayModel => {
    const k = `${day}|${model}`;
    let r = map.get(k);
    if (!r) {
      r = { day, model, costUsd: new Decimal(0), usageCostUsd: null, requests: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
      map.set(k, r);
    }
    return r;
  };
  for (const p of pages) {
    for (const b of p.data) {
      const day = dayOf(b.start_time);
      if (day < from) from = day;
      const last = dayOf(b.end_time - 1);
      if (last > to) to = last;
      for (const res of b.results) {
        if (res.object === "organization.costs.result") {
          const c = costResult.parse(res);
          const model = prices.canonical(modelOfLineItem(c.line_item ?? "unknown"));
          const r = get(day, model);
          r.costUsd = r.costUsd.plus(new Decimal(String(c.amount.value)));
        } else if (res.object === "organization.usage.completions.result") {
          const u = usageResult.parse(res);
          const model = prices.canonical(u.model ?? "unknown");
          const r = get(day, model);
          r.requests += u.num_model_requests;
          // The usage API's input_tokens INCLUDES cached tokens.
          r.inputTokens += u.input_tokens - u.input_cached_tokens;
          r.cachedInputTokens += u.input_cached_tokens;
          r.outputTokens += u.output_tokens;
          const price = prices.priceAt(model, new Date(`${day}T12:00:00Z`));
          if (price) {
            const c = costWithPrice(usage({ inputTokens: u.input_tokens - u.input_cached_tokens, cachedInputTokens: u.input_cached_tokens, outputTokens: u.output_tokens }), price, { batch: u.batch === true });
            r.usageCostUsd = (r.usageCostUsd ?? new Decimal(0)).plus(c);
          }
        }
      }
    }
  }
  return { rows: [...map.values()], from, to };
}

/** Joins provider and ledger per (day, model); diff = provider - ledger. */
export function reconcile(provider: ProviderDayModel[], ledger: LedgerDayModel[], prices: PriceTable): ReconRow[] {
  const keys = new Map<string, { p?: ProviderDayModel; l: LedgerDayModel[] }>();
  for (const p of provider) keys.set(`${p.day}|${p.model}`, { p, l: [] });
  for (const l of ledger) {
    const k = `${l.day}|${prices.canonical(l.model)}`;
    const e = keys.get(k) ?? { l: [] };
    e.l.push(l);
    keys.set(k, e);
  }
  const rows: ReconRow[] = [];
  for (const [k, { p, l }] of keys) {
    const [day, model] = k.split("|") as [string, string];
    const ledgerUsd = l.reduce((s, x) => s.plus(x.costUsd), new Decimal(0));
    const providerUsd = p?.costUsd ?? new Decimal(0);
    rows.push({
      day,
      model,
      providerUsd: providerUsd.toFixed(),
      providerUsageUsd: p?.usageCostUsd?.toFixed() ?? "",
      ledgerUsd: ledgerUsd.toFixed(),
      diffUsd: providerUsd.minus(ledgerUsd).toFixed(),
      providerRequests: p?.requests ?? 0,
      ledgerCalls: l.reduce((s, x) => s + x.calls, 0),
      providerPromptTokens: (p?.inputTokens ?? 0) + (p?.cachedInputTokens ?? 0),
      ledgerPromptTokens: l.reduce((s, x) => s + x.inputTokens + x.cachedInputTokens, 0),
      providerOutputTokens: p?.outputTokens ?? 0,
      ledgerOutputTokens: l.reduce((s, x) => s + x.outputTokens, 0),
    });
  }
  return rows.sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model));
}
