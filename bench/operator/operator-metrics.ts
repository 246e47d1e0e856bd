// Reads the operator's own /metrics: what it says about its requests needs no proxy in front of it.
import { parseOperatorRequestTotals, type RequestCounts } from "./request-counts.js";

/** The Prometheus text of the operator's /metrics at `url`. */
export async function operatorMetricsText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the operator's /metrics answered ${response.status}`);
  return response.text();
}

/** The requests the operator has sent so far, by verb and resource (mlautoscale_api_requests_total). */
export async function operatorRequestCounts(url: string): Promise<RequestCounts> {
  return parseOperatorRequestTotals(await operatorMetricsText(url));
}
