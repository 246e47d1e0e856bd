// The benchmarks' reading of kube-apiserver's latency histograms.
import { describe, expect, it } from "vitest";
import {
  latencySummary,
  parseApiServerLatencies,
  parseFlowControlWaits,
  parseWebhookLatencies,
  subtractLatencies,
} from "../../../bench/operator/request-latency.js";

const LABELS_SO_STATUS =
  'component="apiserver",dry_run="",group="keda.sh",resource="scaledobjects",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"';
const LABELS_POLICY_STATUS =
  'component="apiserver",dry_run="",group="mlautoscale.io",resource="mlautoscalepolicies",scope="resource",subresource="status",verb="APPLY",version="v1alpha1"';

describe("parseApiServerLatencies", () => {
  it("pairs each kind's _sum with its _count, summed over the other labels, and leaves watches and buckets out", () => {
    const text = [
      "# TYPE apiserver_request_duration_seconds histogram",
      `apiserver_request_duration_seconds_bucket{${LABELS_SO_STATUS},le="0.1"} 90`,
      `apiserver_request_duration_seconds_sum{${LABELS_SO_STATUS}} 6`,
      `apiserver_request_duration_seconds_count{${LABELS_SO_STATUS}} 100`,
      `apiserver_request_duration_seconds_sum{${LABELS_POLICY_STATUS}} 2.5`,
      `apiserver_request_duration_seconds_count{${LABELS_POLICY_STATUS}} 50`,
      'apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 1',
      'apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 10',
      'apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="events",scope="namespace",subresource="",verb="POST",version="v1"} 1',
      'apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="events",scope="namespace",subresource="",verb="POST",version="v1"} 10',
      'apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="apps",resource="deployments",scope="cluster",subresource="",verb="WATCH",version="v1"} 9000',
      'apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="apps",resource="deployments",scope="cluster",subresource="",verb="WATCH",version="v1"} 3',
      'apiserver_request_total{code="200",group="",resource="events",verb="POST"} 20',
    ].join("\n");
    expect(Object.fromEntries(parseApiServerLatencies(text))).toEqual({
      "PATCH scaledobjects.keda.sh/status": { count: 100, seconds: 6 },
      "APPLY mlautoscalepolicies.mlautoscale.io/status": { count: 50, seconds: 2.5 },
      "POST events": { count: 20, seconds: 2 },
    });
  });
});

describe("parseWebhookLatencies and parseFlowControlWaits", () => {
  it("key the admission webhooks by name and the queue waits by priority level", () => {
    const text = [
      'apiserver_admission_webhook_admission_duration_seconds_sum{name="vscaledobject.kb.io",operation="CREATE",rejected="false",type="validating"} 3',
      'apiserver_admission_webhook_admission_duration_seconds_count{name="vscaledobject.kb.io",operation="CREATE",rejected="false",type="validating"} 30',
      'apiserver_admission_webhook_admission_duration_seconds_sum{name="vscaledobject.kb.io",operation="UPDATE",rejected="true",type="validating"} 1',
      'apiserver_admission_webhook_admission_duration_seconds_count{name="vscaledobject.kb.io",operation="UPDATE",rejected="true",type="validating"} 10',
      'apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="true",flow_schema="service-accounts",priority_level="workload-low"} 0.5',
      'apiserver_flowcontrol_request_wait_duration_seconds_count{execute="true",flow_schema="service-accounts",priority_level="workload-low"} 1000',
      'apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="true",flow_schema="exempt",priority_level="exempt"} 0',
      'apiserver_flowcontrol_request_wait_duration_seconds_count{execute="true",flow_schema="exempt",priority_level="exempt"} 7',
    ].join("\n");
    expect(Object.fromEntries(parseWebhookLatencies(text))).toEqual({
      "vscaledobject.kb.io": { count: 40, seconds: 4 },
    });
    expect(Object.fromEntries(parseFlowControlWaits(text))).toEqual({
      "workload-low": { count: 1000, seconds: 0.5 },
      exempt: { count: 7, seconds: 0 },
    });
  });
});

describe("subtractLatencies and latencySummary", () => {
  it("keeps the kinds sent in between, and lists those that took the most time first with their means", () => {
    const before = new Map([
      ["PATCH scaledobjects.keda.sh/status", { count: 100, seconds: 6 }],
      ["POST events", { count: 20, seconds: 2 }],
    ]);
    const after = new Map([
      ["PATCH scaledobjects.keda.sh/status", { count: 1100, seconds: 56 }],
      ["POST events", { count: 20, seconds: 2 }],
      ["APPLY mlautoscalepolicies.mlautoscale.io/status", { count: 3000, seconds: 90 }],
      ["GET deployments.apps/scale", { count: 1000, seconds: 20 }],
    ]);
    const between = subtractLatencies(after, before);
    expect(Object.fromEntries(between)).toEqual({
      "PATCH scaledobjects.keda.sh/status": { count: 1000, seconds: 50 },
      "APPLY mlautoscalepolicies.mlautoscale.io/status": { count: 3000, seconds: 90 },
      "GET deployments.apps/scale": { count: 1000, seconds: 20 },
    });
    expect(latencySummary(between, 2)).toEqual({
      "APPLY mlautoscalepolicies.mlautoscale.io/status": { count: 3000, meanMs: 30, totalSeconds: 90 },
      "PATCH scaledobjects.keda.sh/status": { count: 1000, meanMs: 50, totalSeconds: 50 },
    });
  });
});
