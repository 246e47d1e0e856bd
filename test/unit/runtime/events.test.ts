// Events are written a few at a time from a bounded queue: a burst never holds more than the queue in
// memory, and what does not fit is dropped (as client-go's broadcaster drops), never the caller failed.
import { describe, expect, it } from "vitest";
import { RestEventRecorder } from "../../../src/runtime/events.js";

function heldRest() {
  const pending: Array<() => void> = [];
  let sent = 0;
  return {
    pending,
    sent: () => sent,
    rest: {
      request: <T>(): Promise<T> =>
        new Promise<T>((resolve) => {
          sent++;
          pending.push(() => resolve({} as T));
        }),
    },
  };
}

const object = { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "ml", name: "a", uid: "u" } };
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("RestEventRecorder", () => {
  it("sends a few events at a time and the rest as those finish", async () => {
    const server = heldRest();
    const recorder = new RestEventRecorder(server.rest, "test");
    for (let i = 0; i < 20; i++) recorder.event(object, "Normal", "Created", `event ${i}`);
    expect(server.sent()).toBe(8);
    server.pending.splice(0, 3).forEach((finish) => finish());
    await settle();
    await settle();
    expect(server.sent()).toBe(11);
    while (server.pending.length > 0) {
      server.pending.splice(0).forEach((finish) => finish());
      await settle();
      await settle();
    }
    expect(server.sent()).toBe(20);
    expect(recorder.droppedCount).toBe(0);
  });

  it("drops what does not fit in its queue", () => {
    const server = heldRest();
    const recorder = new RestEventRecorder(server.rest, "test");
    for (let i = 0; i < 1_100; i++) recorder.event(object, "Normal", "Created", `event ${i}`);
    expect(server.sent()).toBe(8);
    expect(recorder.droppedCount).toBe(1_100 - 8 - 1_000);
  });
});
