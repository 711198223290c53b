// Label selection as podman's and Docker's `label=` filters read it, for every engine's filters
// (the local engine's prunes, the CLI's `ps`/`images --filter`).

/**
 * Whether `labels` hold `label`: `KEY` (with any value) or `KEY=VALUE`.
 *
 * @example
 * ```ts
 * hasLabel({ tier: 'web' }, 'tier'); // true
 * hasLabel({ tier: 'web' }, 'tier=db'); // false
 * ```
 */
export function hasLabel(labels: Readonly<Record<string, string>>, label: string): boolean {
  const eq = label.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, label);
  return labels[label.slice(0, eq)] === label.slice(eq + 1);
}
