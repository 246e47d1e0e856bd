import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import { KubeApiError } from "../../../src/runtime/errors.js";
import {
  parseServerVersion,
  watchServerVersion,
  type ServerVersion,
  type VersionInfo,
} from "../../../src/runtime/server-version.js";

async function settle(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
}

describe("parseServerVersion", () => {
  it("reads major and minor as upstream and managed clusters report them", () => {
    expect(parseServerVersion({ major: "1", minor: "30", gitVersion: "v1.30.14" })).toEqual({
      major: 1,
      minor: 30,
      gitVersion: "v1.30.14",
    });
    // EKS and GKE report the minor with a "+".
    expect(parseServerVersion({ major: "1", minor: "30+", gitVersion: "v1.30.5-eks-ce1d5eb" })).toMatchObject(
      {
        major: 1,
        minor: 30,
      },
    );
  });

  it("falls back on gitVersion, and refuses a /version that names no version", () => {
    expect(parseServerVersion({ major: "", minor: "", gitVersion: "v1.31.2" })).toMatchObject({
      major: 1,
      minor: 31,
    });
    expect(() => parseServerVersion({ major: "", minor: "", gitVersion: "master" })).toThrow(
      /names no version/,
    );
  });
});

describe("watchServerVersion", () => {
  it("reads the version at start, keeps it through an outage, and reports the upgraded one after", async () => {
    const clock = new ManualClock();
    let answer: VersionInfo | 503 = { major: "1", minor: "30", gitVersion: "v1.30.14" };
    const rest = {
      request: <T>(_method: string, path: string): Promise<T> => {
        expect(path).toBe("/version");
        if (answer === 503) return Promise.reject(new KubeApiError(503, "the server is restarting"));
        return Promise.resolve(answer as T);
      },
    };
    const seen: string[] = [];
    const watcher = watchServerVersion({
      rest,
      clock,
      intervalMs: 60_000,
      onChange: (version: ServerVersion) => {
        seen.push(version.gitVersion);
      },
    });
    await watcher.start();
    expect(seen).toEqual(["v1.30.14"]);
    // The control plane is being upgraded: reads fail and the last answer stands.
    answer = 503;
    clock.advance(60_000);
    await settle();
    expect(watcher.current()?.minor).toBe(30);
    expect(seen).toEqual(["v1.30.14"]);
    answer = { major: "1", minor: "31", gitVersion: "v1.31.2" };
    clock.advance(60_000);
    await settle();
    expect(seen).toEqual(["v1.30.14", "v1.31.2"]);
    // The same version again is no change.
    clock.advance(60_000);
    await settle();
    expect(seen).toEqual(["v1.30.14", "v1.31.2"]);
    watcher.stop();
  });
});
