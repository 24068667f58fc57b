// Runs deploy/*.test.ts (the root vitest.config.ts includes only libs/, services/ and test/):
//   npx vitest run --config deploy/vitest.config.ts
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: ".",
    include: ["deploy/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
