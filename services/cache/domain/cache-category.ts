// Maps the classifier's task category onto the cache's TTL/threshold categories, and spots questions
// about the present (prices, weather, news, "today") whose answers go stale in minutes.
const TIME_SENSITIVE = /\b(today|tonight|right now|currently|current(?:ly)?|latest|breaking|live|this (?:week|morning|afternoon|evening)|weather|forecast|stock|share price|exchange rate|score|traffic|news|trending|yesterday|tomorrow)\b/i;

const BY_TASK: Record<string, string> = {
  qa: "static_knowledge",
  chat: "default",
  summarization: "summarization",
  extraction: "summarization",
  classification: "classification",
  translation: "static_knowledge",
  code: "code",
  math: "static_knowledge",
  reasoning: "default",
  creative: "creative",
  agentic: "creative",
};

export function cacheCategory(taskCategory: string, lastUserText: string): string {
  if (taskCategory !== "creative" && TIME_SENSITIVE.test(lastUserText)) return "realtime";
  return BY_TASK[taskCategory] ?? "default";
}
