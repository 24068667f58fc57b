// The proto contracts and the TypeScript generated from them are in step: regenerating with the
// project's own buf.gen.yaml changes nothing under libs/gen, buf lint passes, and buf breaking
// finds no break against the last commit (and does find one when a field is deleted).
import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = process.cwd();
const BIN = resolve(ROOT, "node_modules/.bin");
// buf finds the local protoc-gen-es plugin on PATH.
const ENV = { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ""}` };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function buf(args: string[], cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(join(BIN, "buf"), args, { cwd, env: ENV, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

interface GenTemplate {
  plugins: { out: string }[];
}

describe("generated protobuf code", () => {
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "llmgw-contracts-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("regenerating from proto/ changes nothing under libs/gen", async () => {
    // The project's own template, unchanged, with its output redirected into a temp dir (-o).
    const template = parse(await readFile(join(ROOT, "buf.gen.yaml"), "utf8")) as GenTemplate;
    const outs = [...new Set(template.plugins.map((p) => p.out))];
    expect(outs).toEqual(["libs/gen"]);
    const templatePath = join(tmp, "buf.gen.json");
    await writeFile(templatePath, JSON.stringify(template));
    const outDir = join(tmp, "out");
    const r = await buf(["generate", "--template", templatePath, "-o", outDir]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);

    const fresh = join(outDir, "libs/gen");
    const committed = join(ROOT, "libs/gen");
    const freshFiles = await filesUnder(fresh);
    expect(freshFiles.length).toBeGreaterThan(0);
    expect(await filesUnder(committed)).toEqual(freshFiles);
    const stale: string[] = [];
    for (const f of freshFiles) {
      const [a, b] = await Promise.all([readFile(join(fresh, f)), readFile(join(committed, f))]);
      if (!a.equals(b)) stale.push(f);
    }
    expect(stale, "libs/gen is stale; run `npm run generate`").toEqual([]);
  }, 45_000);

  it("buf lint passes", async () => {
    const r = await buf(["lint"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  // In CI on a branch the check is `buf breaking --against '.git#branch=main'`. Here (and in CI on
  // main itself) the working tree is compared with the last commit: uncommitted proto edits that
  // break wire or source compatibility fail this test.
  it("buf breaking finds no break against the last commit", async () => {
    const r = await buf(["breaking", "--against", ".git#ref=HEAD"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, 30_000);

  it("buf breaking does catch a deleted field (the check is live)", async () => {
    const copy = join(tmp, "broken");
    await cp(join(ROOT, "proto"), join(copy, "proto"), { recursive: true });
    await cp(join(ROOT, "buf.yaml"), join(copy, "buf.yaml"));
    const file = join(copy, "proto/llmgw/common/v1/common.proto");
    const text = await readFile(file, "utf8");
    const field = /^\s+[\w.]+ (\w+) = \d+;$/m.exec(text);
    expect(field).not.toBeNull();
    await writeFile(file, text.replace(field?.[0] ?? "", ""));
    const r = await buf(["breaking", copy, "--against", ROOT]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/deleted/i);
  }, 30_000);
});
