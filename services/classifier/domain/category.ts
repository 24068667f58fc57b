// Task category detection: keyword votes on the last user turn (weighted) and the whole prompt,
// with feature overrides (tools → agentic). Literal alternations only: linear-time regexes.
import type { Category, Features } from "./types.ts";

interface CategoryRule {
  category: Category;
  re: RegExp;
  weight: number;
}

const RULES: CategoryRule[] = [
  { category: "translation", weight: 3, re: /\b(?:translate|translation|traduce|traduire|übersetze|in(?:to)? (?:english|french|spanish|german|chinese|japanese|italian|portuguese|russian|korean|arabic))\b/gi },
  { category: "summarization", weight: 3, re: /\b(?:summari[sz]e|summary|tl;?dr|condense|key points|main points|in a nutshell|abstract of|recap)\b/gi },
  { category: "extraction", weight: 2.5, re: /\b(?:extract|list all|find all|pull out|identify (?:all|the)|parse|named entities|return (?:a )?json|fields?|key-value)\b/gi },
  { category: "classification", weight: 2.5, re: /\b(?:classify|categori[sz]e|label|sentiment|which category|is this (?:spam|positive|negative)|tag (?:the|each)|detect whether)\b/gi },
  { category: "code", weight: 2, re: /\b(?:code|function|program|script|implement|debug|bug|refactor|compile|python|javascript|typescript|java|c\+\+|rust|golang|sql|regex|api|class|algorithm|unit test|stack trace|exception)\b|```/gi },
  { category: "math", weight: 2, re: /\b(?:solve|calculate|compute|equation|integral|derivative|probability|how many|how much|percent|average|sum|product|divisible|prime|polynomial|matrix|theorem|geometry|algebra|arithmetic|area|volume|ratio)\b|\d\s*[+\-*/^=]\s*\d/gi },
  { category: "reasoning", weight: 1.5, re: /\b(?:why|explain|reason|prove|logic|puzzle|riddle|deduce|infer|implications?|analy[sz]e|compare|evaluate|argue|critique|step by step|trade-?offs?|pros and cons|hypothes[ie]s)\b/gi },
  { category: "creative", weight: 2, re: /\b(?:write (?:a|an|me) (?:story|poem|song|haiku|limerick|blog|essay|script|letter|email|speech|tweet)|poem|story|fiction|lyrics|imagine|creative|compose|draft|brainstorm|slogan|character|role-?play|pretend)\b/gi },
  { category: "qa", weight: 1, re: /\b(?:what is|what are|who (?:is|was)|when (?:did|was)|where (?:is|was)|which|define|definition|meaning of|tell me about)\b|\?/gi },
  { category: "chat", weight: 1, re: /\b(?:hi|hello|hey|thanks|thank you|how are you|good (?:morning|evening)|lol|ok(?:ay)?)\b/gi },
];

export interface CategoryResult {
  category: Category;
  /** Share of the winning vote in all votes, 0..1. */
  margin: number;
  scores: Partial<Record<Category, number>>;
}

function votes(text: string, into: Partial<Record<Category, number>>, scale: number): void {
  for (const r of RULES) {
    r.re.lastIndex = 0;
    let n = 0;
    while (r.re.exec(text) !== null && n < 20) n++;
    r.re.lastIndex = 0;
    if (n > 0) into[r.category] = (into[r.category] ?? 0) + scale * r.weight * Math.log2(1 + n);
  }
}

export function detectCategory(lastUser: string, fullPrompt: string, f: Features): CategoryResult {
  const scores: Partial<Record<Category, number>> = {};
  if (f.hasTools) return { category: "agentic", margin: 1, scores: { agentic: 1 } };
  votes(lastUser, scores, 1);
  if (fullPrompt.length !== lastUser.length) votes(fullPrompt, scores, 0.4);
  if (f.hasCode) scores.code = (scores.code ?? 0) + 1.5;
  if (f.hasMath) scores.math = (scores.math ?? 0) + 1;
  if (f.multipleChoice) scores.qa = (scores.qa ?? 0) + 2;
  if (f.jsonMode) scores.extraction = (scores.extraction ?? 0) + 1.5;
  let best: Category = f.words <= 12 && f.questionCount === 0 ? "chat" : "qa";
  let bestScore = 0;
  let total = 0;
  for (const [cat, s] of Object.entries(scores) as [Category, number][]) {
    total += s;
    if (s > bestScore) {
      best = cat;
      bestScore = s;
    }
  }
  return { category: best, margin: total > 0 ? bestScore / total : 0.5, scores };
}
