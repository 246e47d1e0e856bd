import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("operator configuration", () => {
  it("has defaults that need no flags", () => {
    const config = loadConfig([], { POD_NAMESPACE: "mlautoscale-system" });
    expect(config).toEqual({
      namespaces: [],
      bindAddress: "0.0.0.0",
      metricsPort: 8080,
      leaderElect: true,
      leaderElectionNamespace: "mlautoscale-system",
      leaderElectionId: "mlautoscale-operator",
      workers: 64,
      kubeApiQps: 0,
      kubeApiBurst: 100,
      resyncSeconds: 600,
      kedaDiscoverySeconds: 30,
      shutdownTimeoutSeconds: 30,
      logLevel: "info",
      allowedTriggerEndpoints: [],
      propagateLabels: [],
    });
  });

  it("reads the environment, and flags win over it", () => {
    const config = loadConfig(["--workers=8", "--namespaces", "ml-a, ml-b"], {
      WORKERS: "2",
      LEADER_ELECT: "false",
      LOG_LEVEL: "debug",
      WATCH_NAMESPACES: "ignored",
    });
    expect(config.workers).toBe(8);
    expect(config.namespaces).toEqual(["ml-a", "ml-b"]);
    expect(config.leaderElect).toBe(false);
    expect(config.logLevel).toBe("debug");
  });

  it("names the flag and its variable in errors", () => {
    expect(() => loadConfig(["--workers=0"], {})).toThrow(ConfigError);
    expect(() => loadConfig(["--workers=0"], {})).toThrow(/--workers \(WORKERS\): Too small/);
    expect(() => loadConfig([], { LOG_LEVEL: "loud" })).toThrow(/--log-level \(LOG_LEVEL\)/);
    expect(() => loadConfig([], { LEADER_ELECT: "yes" })).toThrow(/--leader-elect \(LEADER_ELECT\)/);
    expect(() => loadConfig(["--namespaces=Bad_Name"], {})).toThrow(
      /--namespaces \(WATCH_NAMESPACES\): must be a namespace name/,
    );
  });

  it("reads the labels to propagate as keys and prefixes", () => {
    expect(loadConfig(["--propagate-labels= team, example.com/,"], {}).propagateLabels).toEqual([
      "team",
      "example.com/",
    ]);
    expect(loadConfig([], { PROPAGATE_LABELS: "cost-center" }).propagateLabels).toEqual(["cost-center"]);
  });

  it("reads the allowed trigger endpoints as lower-case patterns, and refuses what is not one", () => {
    expect(
      loadConfig(["--allowed-trigger-endpoints= *.SVC.cluster.local, 10.0.0.7:9092,"], {})
        .allowedTriggerEndpoints,
    ).toEqual(["*.svc.cluster.local", "10.0.0.7:9092"]);
    expect(loadConfig([], { ALLOWED_TRIGGER_ENDPOINTS: "kafka.svc" }).allowedTriggerEndpoints).toEqual([
      "kafka.svc",
    ]);
    expect(() => loadConfig([], { ALLOWED_TRIGGER_ENDPOINTS: "ok.svc,http://x/" })).toThrow(
      /--allowed-trigger-endpoints \(ALLOWED_TRIGGER_ENDPOINTS\): must be a host or \*\.domain/,
    );
  });

  it("rejects unknown flags with the usage", () => {
    expect(() => loadConfig(["--wrokers=2"], {})).toThrow(
      /Unknown option '--wrokers'[\s\S]*Usage: mlautoscale operator/,
    );
  });
});
