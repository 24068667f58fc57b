import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["libs/**/*.test.ts", "services/**/*.test.ts", "test/**/*.test.ts", "deploy/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Test files run one after another in each worker process and share its loaded modules: a fresh
    // process per file cost about a third of the suite's time. So a test file leaves no global state
    // behind (environment, timers, listeners, open servers); the suite passes in shuffled file order
    // (`npx vitest run --sequence.shuffle.files --sequence.seed N`).
    isolate: false,
  },
});
