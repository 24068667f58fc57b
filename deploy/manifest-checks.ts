// Helpers for deploy/validate.test.ts: read YAML manifests, follow kustomization references and
// render overlays with whichever kustomize is installed. No cluster and no Docker engine needed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Value at a path of keys / indexes, or undefined when any step is missing. */
export function at(v: unknown, ...path: Array<string | number>): unknown {
  let cur: unknown = v;
  for (const key of path) {
    if (typeof key === "number") cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = isObj(cur) ? cur[key] : undefined;
  }
  return cur;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Every YAML document of a file (comments-only documents dropped); throws naming the file on a syntax error. */
export function readYamlDocs(path: string, opts: { merge?: boolean } = {}): unknown[] {
  return parseYamlDocs(readFileSync(path, "utf8"), path, opts);
}

export function parseYamlDocs(text: string, source: string, opts: { merge?: boolean } = {}): unknown[] {
  const docs = parseAllDocuments(text, { merge: opts.merge ?? false, uniqueKeys: true });
  const out: unknown[] = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${source}: ${problems.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

export function listFiles(dir: string, suffixes: string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, suffixes));
    else if (suffixes.some((s) => entry.endsWith(s))) out.push(p);
  }
  return out.sort();
}

/** Local paths a kustomization refers to (resources, components, patches, generator sources), resolved. */
export function kustomizationRefs(kustomizationPath: string): string[] {
  const [k] = readYamlDocs(kustomizationPath);
  const dir = dirname(kustomizationPath);
  const refs: string[] = [];
  for (const r of [...arr(at(k, "resources")), ...arr(at(k, "components"))]) {
    const s = str(r);
    if (s !== undefined && !/^[a-z]+:\/\//.test(s)) refs.push(s);
  }
  for (const p of arr(at(k, "patches"))) {
    const s = str(at(p, "path"));
    if (s !== undefined) refs.push(s);
  }
  for (const g of [...arr(at(k, "configMapGenerator")), ...arr(at(k, "secretGenerator"))]) {
    for (const f of [...arr(at(g, "files")), ...arr(at(g, "envs"))]) {
      const s = str(f);
      // `files` may be `key=path`.
      if (s !== undefined) refs.push(s.includes("=") ? s.slice(s.indexOf("=") + 1) : s);
    }
  }
  return refs.map((r) => resolve(dir, r));
}

export interface Renderer {
  label: string;
  render(dir: string): string;
}

function onPath(bin: string): boolean {
  try {
    execFileSync(bin, ["version", ...(bin === "kubectl" ? ["--client"] : [])], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** `kustomize build` or `kubectl kustomize` if either is installed; deploy/config sits outside the base, hence the flag. */
export function findRenderer(): Renderer | undefined {
  const flag = "--load-restrictor=LoadRestrictionsNone";
  for (const [bin, sub] of [["kustomize", "build"], ["kubectl", "kustomize"]] as const) {
    if (onPath(bin)) {
      return {
        label: `${bin} ${sub}`,
        render: (dir) => execFileSync(bin, [sub, flag, dir], { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] }),
      };
    }
  }
  return undefined;
}

export interface K8sObject {
  kind: string;
  name: string;
  namespace: string | undefined;
  raw: Obj;
}

export function k8sObjects(docs: unknown[], source: string): K8sObject[] {
  return docs.map((d, i) => {
    const kind = str(at(d, "kind"));
    const name = str(at(d, "metadata", "name"));
    if (!isObj(d) || kind === undefined || name === undefined || str(at(d, "apiVersion")) === undefined) {
      throw new Error(`${source} document ${i}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
    }
    return { kind, name, namespace: str(at(d, "metadata", "namespace")), raw: d };
  });
}

export function find(objs: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objs.find((o) => o.kind === kind && o.name === name);
}

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"];

export function podSpec(o: K8sObject): Obj {
  const spec = at(o.raw, "spec", "template", "spec");
  if (!isObj(spec)) throw new Error(`${o.kind}/${o.name} has no pod template`);
  return spec;
}

export function containers(o: K8sObject): Obj[] {
  return arr(podSpec(o).containers).filter(isObj);
}

/** Named container ports of a workload's first container: name → containerPort. */
export function containerPorts(o: K8sObject): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of arr(containers(o)[0]?.ports)) {
    const name = str(at(p, "name"));
    const port = at(p, "containerPort");
    if (name !== undefined && typeof port === "number") m.set(name, port);
  }
  return m;
}

export function labelsMatch(selector: unknown, labels: unknown): boolean {
  if (!isObj(selector) || !isObj(labels) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function fileExists(p: string): boolean {
  return existsSync(p);
}

export interface ComposeValidator {
  label: string;
  /** Throws with compose's own message when the file is invalid. */
  validate(composeFile: string): void;
}

/**
 * `docker compose config -q` (v2) or `docker-compose config -q` (v1, Debian's package) when
 * installed. v1 predates the top-level `name:`, so it checks a copy without that line.
 */
export function findComposeValidator(): ComposeValidator | undefined {
  const run = (bin: string, args: string[]) => execFileSync(bin, args, { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });
  try {
    run("docker", ["compose", "version"]);
    return { label: "docker compose", validate: (f) => void run("docker", ["compose", "-f", f, "config", "-q"]) };
  } catch {
    // no compose v2 plugin
  }
  try {
    run("docker-compose", ["version"]);
  } catch {
    return undefined;
  }
  return {
    label: "docker-compose (v1)",
    validate: (f) => {
      const dir = mkdtempSync(join(tmpdir(), "llmgw-compose-"));
      try {
        const copy = join(dir, "docker-compose.yml");
        writeFileSync(copy, readFileSync(f, "utf8").replace(/^name: .*$/m, ""));
        run("docker-compose", ["-f", copy, "--project-directory", dirname(f), "config", "-q"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Built-in API groups whose objects kubernetes-models can check against the Kubernetes OpenAPI schemas. */
const SCHEMA_GROUPS = new Set(["v1", "apps/v1", "autoscaling/v2", "policy/v1"]);

/**
 * Checks a Kubernetes object against its OpenAPI schema (types, required fields, enums) with the
 * kubernetes-models package. Returns the problem, or undefined when valid or when the kind is not a
 * built-in one (CRDs such as PodMonitor). Unknown fields are not reported: the schemas allow them.
 */
export async function schemaProblem(o: K8sObject): Promise<string | undefined> {
  const apiVersion = str(o.raw.apiVersion) ?? "";
  if (!SCHEMA_GROUPS.has(apiVersion)) return undefined;
  const mod: unknown = await import(`kubernetes-models/${apiVersion}/${o.kind}`);
  const ctor = at(mod, o.kind);
  if (typeof ctor !== "function") return `kubernetes-models has no ${apiVersion} ${o.kind}`;
  const model: unknown = Reflect.construct(ctor, [o.raw]);
  const validate = at(model, "validate");
  if (typeof validate !== "function") return `kubernetes-models ${o.kind} has no validate()`;
  try {
    Reflect.apply(validate, model, []);
    return undefined;
  } catch (e) {
    return `${o.kind}/${o.name}: ${e instanceof Error ? e.message : String(e)}`;
  }
}
