// Where new pods find GPUs: free GPUs on the nodes that run at the start, nodes the cluster autoscaler
// adds while pods are Pending (ready after the provisioning time), and a ceiling on what the cluster
// can hold; above it pods stay Pending. Nodes added during the run go away once empty for the
// cluster autoscaler's unneeded time. Without limits every pod finds a node at once. Pure.

export interface CapacityParameters {
  /** GPUs one replica requests; 0 means pods need no GPU node and always schedule. */
  gpusPerReplica: number;
  /** Most GPUs the workload can hold at once (nodes running and nodes that can be added). */
  gpuCapacity: number;
  /** GPUs free at the start on running nodes, beyond those the initial replicas hold. */
  freeGpus: number;
  /** GPUs of a node the cluster autoscaler adds. */
  gpusPerNode: number;
  /** Seconds from the autoscaler's decision to a Ready node. */
  nodeProvisioningSeconds: number;
  /** Seconds an added node stays once empty (cluster-autoscaler --scale-down-unneeded-time). */
  nodeScaleDownSeconds: number;
}

interface Node {
  gpus: number;
  used: number;
  readyAt: number;
  /** Nodes of the start are never removed; added ones are, once empty long enough. */
  added: boolean;
  emptySince: number | undefined;
}

export class NodePool {
  private readonly nodes: Node[] = [];
  readonly unlimited: boolean;

  constructor(
    private readonly params: CapacityParameters,
    initialGpusInUse: number,
    now: number,
  ) {
    this.unlimited =
      params.gpusPerReplica <= 0 || (params.gpuCapacity === Infinity && params.freeGpus === Infinity);
    if (this.unlimited) return;
    const existing = Math.min(initialGpusInUse + params.freeGpus, params.gpuCapacity);
    this.nodes.push({
      gpus: Math.max(existing, initialGpusInUse),
      used: initialGpusInUse,
      readyAt: now,
      added: false,
      emptySince: undefined,
    });
  }

  /** GPUs on nodes, Ready or still provisioning. */
  get totalGpus(): number {
    return this.nodes.reduce((sum, node) => sum + node.gpus, 0);
  }

  /**
   * A node for one replica now, or undefined: the first Ready node with room. Returns the node's
   * index, which `release` takes back.
   */
  bind(now: number): number | undefined {
    if (this.unlimited) return -1;
    const need = this.params.gpusPerReplica;
    for (let index = 0; index < this.nodes.length; index++) {
      const node = this.nodes[index];
      if (!node || node.readyAt > now || node.gpus - node.used < need) continue;
      node.used += need;
      node.emptySince = undefined;
      return index;
    }
    return undefined;
  }

  /** The replica on node `index` is gone: its GPUs are free. */
  release(index: number | undefined, now: number): void {
    if (this.unlimited || index === undefined || index < 0) return;
    const node = this.nodes[index];
    if (!node) return;
    node.used = Math.max(0, node.used - this.params.gpusPerReplica);
    if (node.used === 0) node.emptySince = now;
  }

  /**
   * The cluster autoscaler's pass: nodes for the pending replicas that the nodes being provisioned
   * will not take (bin-packed, up to the capacity), and removal of added nodes empty for long enough.
   */
  autoscale(pendingReplicas: number, now: number): void {
    if (this.unlimited) return;
    const { gpusPerReplica, gpusPerNode, gpuCapacity, nodeProvisioningSeconds, nodeScaleDownSeconds } =
      this.params;
    for (let index = this.nodes.length - 1; index >= 0; index--) {
      const node = this.nodes[index];
      if (node?.added && node.emptySince !== undefined && node.emptySince + nodeScaleDownSeconds <= now) {
        // Later nodes keep their place: pods hold node indices, so an emptied slot is zeroed, not spliced.
        node.gpus = 0;
        node.added = false;
        node.emptySince = undefined;
      }
    }
    if (pendingReplicas <= 0 || gpusPerNode < gpusPerReplica) return;
    let room = 0;
    for (const node of this.nodes) room += Math.floor((node.gpus - node.used) / gpusPerReplica);
    let missing = pendingReplicas - room;
    const perNode = Math.floor(gpusPerNode / gpusPerReplica);
    while (missing > 0 && this.totalGpus + gpusPerNode <= gpuCapacity) {
      this.nodes.push({
        gpus: gpusPerNode,
        used: 0,
        readyAt: now + nodeProvisioningSeconds,
        added: true,
        // Empty from the moment it is Ready: a node no pod ends up on goes away too.
        emptySince: now + nodeProvisioningSeconds,
      });
      missing -= perNode;
    }
  }
}
