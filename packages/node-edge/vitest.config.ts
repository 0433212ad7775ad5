import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "node-edge",
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
