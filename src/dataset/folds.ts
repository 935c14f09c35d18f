import { seededShuffle } from '../runtime/random';

/**
 * K-fold cross-validation folds over labelled items, for choosing a recipe when one val split is too small to
 * tell recipes apart (wlasl100-trainval's val: 143 videos, one video = 0.7 points, a standard error of ~4 points
 * at 50%). Every item is held out exactly once, so the pooled figure is read over all items.
 *
 * - Stratified: each label's items are dealt round the folds in turn, continuing where the previous label
 *   stopped, so every fold holds about 1/K of each gloss and the folds about 1/K of the items (lone items alone
 *   would leave them within one of each other; a group goes to the smallest fold).
 * - Grouped: items of one group (byte-identical videos under different ids) always share a fold, so a copy is
 *   never trained on while its twin is scored. A group is dealt as one unit under its first member's label.
 * - Seeded: the same items and seed give the same folds on every machine, whatever the input order.
 */
export interface FoldItem {
  id: string;
  label: number;
}

/** Fold index (0..k-1) per item id. `groups` lists ids that must share a fold (ids not listed stand alone). */
export function stratifiedFolds(items: readonly FoldItem[], k: number, seed: number, groups: readonly (readonly string[])[] = []): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new Error(`folds must be an integer of at least 2, got ${k}`);
  const ids = new Set(items.map((item) => item.id));
  if (ids.size !== items.length) throw new Error('fold items must have distinct ids');
  const groupOf = new Map<string, string>();
  for (const group of groups) {
    const present = group.filter((id) => ids.has(id));
    for (const id of present) groupOf.set(id, present[0]!);
  }
  // Units: one per group (keyed by its first present member) or per lone item, in a canonical order.
  const units = new Map<string, { label: number; ids: string[] }>();
  for (const item of [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const key = groupOf.get(item.id) ?? item.id;
    const unit = units.get(key);
    if (unit) unit.ids.push(item.id);
    else units.set(key, { label: item.label, ids: [item.id] });
  }
  const byLabel = new Map<number, Array<{ ids: string[] }>>();
  for (const unit of units.values()) {
    const list = byLabel.get(unit.label) ?? [];
    list.push(unit);
    byLabel.set(unit.label, list);
  }
  const fold = new Map<string, number>();
  const sizes = new Array<number>(k).fill(0);
  let next = 0;
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    for (const unit of seededShuffle(byLabel.get(label)!, seed + label)) {
      // A group of two goes where it keeps the folds most even; lone items take their turn.
      const target = unit.ids.length > 1 ? sizes.indexOf(Math.min(...sizes)) : next;
      if (unit.ids.length === 1) next = (next + 1) % k;
      for (const id of unit.ids) fold.set(id, target);
      sizes[target]! += unit.ids.length;
    }
  }
  return fold;
}
