// Decides whether the simulated model calls a tool, and which (protocol-neutral).

export interface ToolDef {
  name: string;
  description: string;
  schema: unknown;
}

/** none: never; auto: when the user asks for what a tool does; required: some tool; named: that tool. */
export type ToolChoice = { mode: "none" } | { mode: "auto" } | { mode: "required" } | { mode: "named"; name: string };

const GENERIC = new Set([
  "get", "set", "fetch", "find", "list", "search", "current", "create", "update", "delete", "using", "given", "return",
  "returns", "tool", "function", "information", "info", "data", "specified", "provided", "the", "for", "and", "with",
  "from", "into", "that", "this", "about", "value", "values", "user", "call", "calls", "retrieve", "lookup", "look",
]);

const keywordMemo = new Map<string, string[]>();

function keywordsOf(tool: ToolDef): string[] {
  const key = `${tool.name}\u0000${tool.description}`;
  const hit = keywordMemo.get(key);
  if (hit !== undefined) return hit;
  const words = `${tool.name.replace(/([a-z])([A-Z])/g, "$1 $2")} ${tool.description}`
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 4 && !GENERIC.has(w));
  const kws = [...new Set(words)];
  if (keywordMemo.size > 1000) keywordMemo.clear();
  keywordMemo.set(key, kws);
  return kws;
}

export function chooseTool(
  tools: readonly ToolDef[],
  choice: ToolChoice,
  lastUserText: string,
  lastIsToolResult: boolean,
  markerTool: string | undefined,
): ToolDef | undefined {
  if (tools.length === 0 || choice.mode === "none") return undefined;
  if (choice.mode === "named") return tools.find((t) => t.name === choice.name) ?? tools[0];
  if (markerTool !== undefined) return tools.find((t) => t.name === markerTool) ?? tools[0];
  const text = lastUserText.toLowerCase();
  const matched = lastIsToolResult ? undefined : tools.find((t) => keywordsOf(t).some((k) => text.includes(k)));
  if (matched !== undefined) return matched;
  // "required" forces a call even after a tool result, as the real APIs do.
  return choice.mode === "required" ? tools[0] : undefined;
}
