/** Taint and toleration matching (k8s.io/api/core/v1 toleration.go `ToleratesTaint`). */

/** A node taint. */
export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

/** A pod toleration. */
export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Does `tol` tolerate `taint`? An empty key with Exists tolerates everything; an empty effect matches all effects. */
export function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (!tol.key) return tol.operator === 'Exists';
  if (tol.key !== taint.key) return false;
  return tol.operator === 'Exists' || (tol.value ?? '') === (taint.value ?? '');
}

/** Are all taints with one of `effects` tolerated? */
export function toleratesAll(tols: Toleration[], taints: Taint[], effects: string[]): boolean {
  return taints.filter((t) => effects.includes(t.effect)).every((t) => tols.some((x) => tolerates(x, t)));
}
