import { createRequire } from "node:module";
import isCreditCardModule from "validator/lib/isCreditCard.js";
import isEmailModule from "validator/lib/isEmail.js";

// Only the two validators used, not the whole `validator` package (~110 modules). libphonenumber-js
// (metadata and ~110 modules, ~6 MB resident) is loaded the first time a text holds a phone-like run,
// so a gateway at rest, or whose prompts never hold one, does not carry it.
const requireLazy = createRequire(import.meta.url);
// CommonJS modules whose module.exports is the function, with `.default` pointing at it too (the typings
// declare only `.default`).
const isEmail = isEmailModule.default;
const isCreditCard = isCreditCardModule.default;
let findPhoneNumbersInText: typeof import("libphonenumber-js").findPhoneNumbersInText | undefined;

/**
 * Built-in detectors of personal data and secrets in a prompt. A request that trips one is neither
 * looked up nor stored (a cached answer would echo it to whoever asks alike). Candidates are found by a
 * loose pattern and confirmed by a well-kept validator where one exists: e-mail syntax and card numbers
 * (issuer ranges and the Luhn check) by `validator`, phone numbers by libphonenumber's metadata.
 */
export const DETECTORS = ["email", "phone", "card", "national_id", "api_key"] as const;
export type Detector = (typeof DETECTORS)[number];

function email(text: string): boolean {
  // Parts bounded as RFC 5321 bounds them (local 64, domain 255): unbounded, a long run without an '@'
  // was scanned to its end from every position (100,000 x "z": 25 s on the event loop).
  if (!text.includes("@")) return false;
  for (const m of text.matchAll(/[^\s<>()[\]",;:@]{1,64}@[^\s<>()[\]",;:@]{1,255}\.[A-Za-z]{2,}/g)) if (isEmail(m[0])) return true;
  return false;
}

/**
 * Phone-like runs (an optional '+', digits with spaces, dots, dashes, slashes, parentheses), bounded in
 * length so the scan is linear: libphonenumber's own scan of a whole text grows much faster than the text
 * ("+1 " x 30,000: 10 s on the event loop), on a candidate it is quick.
 */
const PHONE_CANDIDATE = /\+?\(?\d[\d \t().\/-]{5,24}\d/g;

function phone(text: string): boolean {
  for (const m of text.matchAll(PHONE_CANDIDATE)) {
    // E.164 numbers have at most 15 digits: a longer run of digits is not one (and is slow to parse).
    if (m[0].replace(/\D/g, "").length <= 15 && phoneIn(m[0])) return true;
  }
  return false;
}

function phoneIn(text: string): boolean {
  const find = (findPhoneNumbersInText ??= (requireLazy("libphonenumber-js") as typeof import("libphonenumber-js")).findPhoneNumbersInText);
  // International numbers (+CC ...) anywhere, and national ones as written in the US, UK, France and
  // India. Short matches are left alone: with German rules "1999" or "12345" are valid numbers.
  for (const country of ["US", "GB", "FR", "IN"] as const) {
    for (const n of find(text, { defaultCountry: country })) {
      if (n.number.isValid() && n.number.nationalNumber.length >= 8) return true;
    }
  }
  return false;
}

function card(text: string): boolean {
  for (const m of text.matchAll(/\b(?:\d[ -]?){12,18}\d\b/g)) if (isCreditCard(m[0].replace(/[ -]/g, ""))) return true;
  return false;
}

/**
 * US SSN (not 000/666/9xx area, not 00 group, not 0000 serial), UK National Insurance number, French
 * INSEE number (with its mod-97 key), Indian Aadhaar (12 digits starting 2-9, grouped 4-4-4).
 */
function nationalId(text: string): boolean {
  for (const m of text.matchAll(/\b(\d{3})-(\d{2})-(\d{4})\b/g)) {
    const [area, group, serial] = [m[1] ?? "", m[2] ?? "", m[3] ?? ""];
    if (area !== "000" && area !== "666" && !area.startsWith("9") && group !== "00" && serial !== "0000") return true;
  }
  if (/\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/.test(text)) return true;
  for (const m of text.matchAll(/\b([12]\d{2}(?:0[1-9]|1[0-2])(?:\d{2}|2[AB])\d{6}) ?(\d{2})\b/g)) {
    const body = (m[1] ?? "").replace("2A", "19").replace("2B", "18");
    if (97 - (Number(BigInt(body) % 97n)) === Number(m[2])) return true;
  }
  return /\b[2-9]\d{3} \d{4} \d{4}\b/.test(text);
}

/** Well-known key formats (OpenAI, Anthropic, AWS, GitHub, Slack, Google, Stripe, JWTs) and PEM private keys. */
const API_KEY = new RegExp(
  [
    String.raw`\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}`,
    String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
    String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}\b`,
    String.raw`\bgithub_pat_[A-Za-z0-9_]{40,}\b`,
    String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`,
    String.raw`\bAIza[0-9A-Za-z_-]{35}\b`,
    String.raw`\b[rs]k_(?:live|test)_[0-9A-Za-z]{20,}\b`,
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
    String.raw`-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----`,
  ].join("|"),
);

function apiKey(text: string): boolean {
  return API_KEY.test(text);
}

const CHECKS: Record<Detector, (text: string) => boolean> = { email, phone, card, national_id: nationalId, api_key: apiKey };

/** The first of `enabled` that finds something in `text`. */
export function detect(text: string, enabled: readonly Detector[]): Detector | undefined {
  for (const d of enabled) if (CHECKS[d](text)) return d;
  return undefined;
}
