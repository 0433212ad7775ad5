import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "k8s-sync",
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
