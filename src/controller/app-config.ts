/**
 * The AppInstanceConfig of a small app as the controller serves it (protojson field names), for the callers that
 * ask a controller to deploy one: the scenario runner and the fleet's cluster groups.
 */
/** An AppInstanceConfig in the controller's protojson field names: a small app without volumes, designated to a node. */
export function appConfigJson(app: { uuid: string; name: string }, designated: string, affinity: 'preferred' | 'required' = 'preferred'): Record<string, unknown> {
  return {
    uuidandversion: { uuid: app.uuid, version: '1' },
    displayname: app.name,
    activate: true,
    designated_node_id: designated,
    affinity: affinity === 'required' ? 'AFFINITY_TYPE_REQUIRED' : 'AFFINITY_TYPE_PREFERRED',
    fixedresources: { vcpus: 1, memory: 262144, maxmem: 262144 },
  };
}
