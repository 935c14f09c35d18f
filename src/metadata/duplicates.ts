import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { csvCell } from './reports';
import type { Split, VideoEntry } from './types';

/**
 * Byte-identical videos under different ids. WLASL lists some clips twice (the same file fetched from two
 * sources): wlasl100-trainval holds 9 such pairs among its 784 clips, 2 of them a val clip that is a copy of a
 * training clip of the same gloss (a val score the model may have memorised) and 4 the same clip under two
 * different glosses. Training is left as the metadata says; the report names them, and `run` gives the val and
 * test figures without the copies of training clips beside the plain ones.
 */
export interface DuplicateMember {
  videoId: string;
  gloss: string;
  split: Split;
}

export interface DuplicateGroup {
  sha256: string;
  bytes: number;
  /** In metadata order. */
  members: DuplicateMember[];
}

export interface DuplicateReport {
  /** Groups of two or more present videos with the same bytes, in metadata order of their first member. */
  groups: DuplicateGroup[];
  /** Videos of each evaluation split that are byte copies of a training video (whatever its gloss). */
  copiesOfTraining: Record<'val' | 'test', string[]>;
  /** Groups whose members carry more than one gloss: the same clip labelled two ways. */
  conflictingGlosses: DuplicateGroup[];
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * Only files that share their size with another can be copies, so only those are read (on wlasl100-trainval 30
 * of 784 files). A file that cannot be read is left out here: the stages that open it report why.
 */
export async function findDuplicateVideos(entries: readonly VideoEntry[], trainingSplits: readonly Split[] = ['train']): Promise<DuplicateReport> {
  const bySize = new Map<number, VideoEntry[]>();
  for (const entry of entries) {
    if (entry.path === null) continue;
    let bytes: number;
    try {
      bytes = (await fs.promises.stat(entry.path)).size;
    } catch {
      continue;
    }
    const same = bySize.get(bytes);
    if (same) same.push(entry);
    else bySize.set(bytes, [entry]);
  }
  const groups: DuplicateGroup[] = [];
  for (const [bytes, candidates] of bySize) {
    if (candidates.length < 2) continue;
    const byHash = new Map<string, VideoEntry[]>();
    for (const entry of candidates) {
      let digest: string;
      try {
        digest = await sha256Of(entry.path!);
      } catch {
        continue;
      }
      const same = byHash.get(digest);
      if (same) same.push(entry);
      else byHash.set(digest, [entry]);
    }
    for (const [sha256, members] of byHash) {
      if (members.length > 1) groups.push({ sha256, bytes, members: members.map(({ videoId, gloss, split }) => ({ videoId, gloss, split })) });
    }
  }
  const order = new Map(entries.map((e, i) => [e.videoId, i]));
  groups.sort((a, b) => order.get(a.members[0]!.videoId)! - order.get(b.members[0]!.videoId)!);
  // A split the model trained on has no copies "of training": it is training (val, for a model trained on train + val).
  const copiesOf = (split: 'val' | 'test') =>
    trainingSplits.includes(split) ? [] : groups.filter((g) => g.members.some((m) => trainingSplits.includes(m.split))).flatMap((g) => g.members.filter((m) => m.split === split).map((m) => m.videoId));
  return {
    groups,
    copiesOfTraining: { val: copiesOf('val'), test: copiesOf('test') },
    conflictingGlosses: groups.filter((g) => new Set(g.members.map((m) => m.gloss)).size > 1),
  };
}

function describeGroup(group: DuplicateGroup): string {
  return group.members.map((m) => `${m.videoId} (${m.gloss}, ${m.split})`).join(' = ');
}

/** Summary lines: nothing when there are no copies; else how many, and the ones that bear on the figures, named. */
export function formatDuplicates(report: DuplicateReport, maxNamed = 4): string[] {
  if (!report.groups.length) return [];
  const files = report.groups.reduce((n, g) => n + g.members.length, 0);
  const named = (groups: DuplicateGroup[]) => groups.slice(0, maxNamed).map(describeGroup).join('; ') + (groups.length > maxNamed ? `; and ${groups.length - maxNamed} more` : '');
  const lines = [`duplicates: ${report.groups.length} groups of byte-identical videos (${files} files; all in data/duplicate_videos.csv)`];
  // The groups behind copiesOfTraining (a model trained on train + val has none in val).
  const copies = new Set([...report.copiesOfTraining.val, ...report.copiesOfTraining.test]);
  const crossing = report.groups.filter((g) => g.members.some((m) => copies.has(m.videoId)));
  if (crossing.length) lines.push(`  copies of training videos in val or test (their figures are also given without them): ${named(crossing)}`);
  if (report.conflictingGlosses.length) lines.push(`  the same video under different glosses: ${named(report.conflictingGlosses)}`);
  return lines;
}

/** One row per member: group, video_id, gloss, split, bytes, sha256. */
export function duplicatesCsv(report: DuplicateReport): string {
  const rows = ['group,video_id,gloss,split,bytes,sha256'];
  report.groups.forEach((g, i) => {
    for (const m of g.members) rows.push([i + 1, m.videoId, m.gloss, m.split, g.bytes, g.sha256].map(csvCell).join(','));
  });
  return rows.join('\n') + '\n';
}
