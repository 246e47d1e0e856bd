import { describe, expect, it } from "vitest";
import { spreadOverPartitions } from "../../../src/brokers/kafka.js";

describe("spreading consumption over Kafka partitions", () => {
  it("takes even shares from the partitions with lag", () => {
    expect(spreadOverPartitions([10, 10, 10], 9)).toEqual([3, 3, 3]);
    expect(spreadOverPartitions([10, 0, 10], 8)).toEqual([4, 0, 4]);
  });

  it("gives a short partition's unused share to the others", () => {
    expect(spreadOverPartitions([1, 100, 100], 21)).toEqual([1, 10, 10]);
    expect(spreadOverPartitions([2, 3, 50], 100)).toEqual([2, 3, 50]);
  });

  it("never takes more than asked, nor more than a partition's lag", () => {
    const taken = spreadOverPartitions([7, 5, 9, 1], 10);
    expect(taken.reduce((a, b) => a + b, 0)).toBe(10);
    taken.forEach((take, index) => expect(take).toBeLessThanOrEqual([7, 5, 9, 1][index] ?? 0));
    expect(spreadOverPartitions([0, 0], 5)).toEqual([0, 0]);
    expect(spreadOverPartitions([4, 4], 0)).toEqual([0, 0]);
  });
});
