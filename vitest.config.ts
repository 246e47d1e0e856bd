import { defineConfig } from "vitest/config";

// The AWS SDK warns once per process that its releases from 2027 need Node 22: not news in every test
// worker. Workers inherit this process's environment.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

// Four projects: unit tests are pure and fast; integration and e2e share one real control plane
// per run (started in globalSetup) and isolate tests by namespace; oldest runs against kube-apiserver of
// the oldest supported Kubernetes (what the objects need there, and nothing they need only on the newest).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-setup-integration.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "oldest",
          include: [
            "test/oldest/**/*.test.ts",
            // The CRD and its CEL rules, every rendered child, the chart and its admission policy.
            "test/integration/crd-validation.test.ts",
            "test/integration/chart.test.ts",
            "test/integration/admission-policy.test.ts",
          ],
          globalSetup: ["test/support/global-setup-oldest.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/support/global-setup-e2e.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
