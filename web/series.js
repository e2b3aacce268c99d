// The readings the page holds, as typed columns sized for the whole session (13 bytes a reading:
// a million readings fit easily), filled by live readings and by "history" pages alike.
// Invariant: readings [0, count) are held, with no gap; what the replay continues from is count.

export const FILLED = 1;
export const AFTER_GAP = 2;
export const FLAGGED = 4; // part of an anomaly other than "missing" (drawn as a marker)
export const OUT_OF_RANGE = 8;
export const BLOCK = 64; // readings per min/max block: a zoomed-out frame walks blocks, not readings
export const BIG = 1024; // readings per big block (16 blocks): a million readings are ~1,000 of them

export class Series {
  constructor() {
    this.reset(0);
  }

  reset(total) {
    this.total = total;
    this.count = 0;
    this.t = new Float64Array(Math.max(16, total));
    this.bpm = new Float32Array(this.t.length);
    this.flags = new Uint8Array(this.t.length);
    this.allocBlocks();
    this.kinds = new Map(); // seq -> ["spike", ...] (sparse)
    this.resetStats();
  }

  allocBlocks() {
    const keep = (old, Type, n) => {
      const next = new Type(n);
      if (old) next.set(old.subarray(0, Math.min(n, old.length)));
      return next;
    };
    for (const [size, pre] of [[BLOCK, "blk"], [BIG, "big"]]) {
      const n = Math.ceil(this.t.length / size);
      this[`${pre}Lo`] = keep(this[`${pre}Lo`], Float32Array, n);
      this[`${pre}Hi`] = keep(this[`${pre}Hi`], Float32Array, n);
      this[`${pre}Gap`] = keep(this[`${pre}Gap`], Uint8Array, n);
    }
  }

  /** Keep the block and the big block of `seq` up to date: min, max, whether a gap starts inside. */
  block(seq) {
    const v = this.bpm[seq];
    const gap = (this.flags[seq] & AFTER_GAP) !== 0;
    summarise(this.blkLo, this.blkHi, this.blkGap, (seq / BLOCK) | 0, seq % BLOCK === 0, v, gap);
    summarise(this.bigLo, this.bigHi, this.bigGap, (seq / BIG) | 0, seq % BIG === 0, v, gap);
  }

  /** Min and max bpm of readings [i0, i1): whole blocks from their summary. */
  range(i0, i1) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = i0; i < i1; ) {
      if (i % BIG === 0 && i + BIG <= i1) {
        const b = i / BIG;
        if (this.bigLo[b] < lo) lo = this.bigLo[b];
        if (this.bigHi[b] > hi) hi = this.bigHi[b];
        i += BIG;
        continue;
      }
      if (i % BLOCK === 0 && i + BLOCK <= i1) {
        const b = i / BLOCK;
        if (this.blkLo[b] < lo) lo = this.blkLo[b];
        if (this.blkHi[b] > hi) hi = this.blkHi[b];
        i += BLOCK;
        continue;
      }
      if (this.bpm[i] < lo) lo = this.bpm[i];
      if (this.bpm[i] > hi) hi = this.bpm[i];
      i += 1;
    }
    return [lo, hi];
  }

  resetStats() {
    this.stats = { n: 0, sum: 0, min: Infinity, max: -Infinity };
  }

  grow(n) {
    if (n <= this.t.length) return;
    const size = Math.max(n, this.t.length * 2);
    for (const [name, Type] of [["t", Float64Array], ["bpm", Float32Array], ["flags", Uint8Array]]) {
      const next = new Type(size);
      next.set(this[name]);
      this[name] = next;
    }
    this.allocBlocks();
  }

  /** One reading at seq === count (a live one); false when it is not the next one. */
  push(seq, t, bpm, filled, kinds, afterGap) {
    if (seq !== this.count) return false;
    this.grow(seq + 1);
    this.t[seq] = t;
    this.bpm[seq] = bpm;
    let f = (filled ? FILLED : 0) | (afterGap ? AFTER_GAP : 0);
    if (kinds && kinds.length) {
      this.kinds.set(seq, kinds);
      if (kinds.some((k) => k !== "missing")) f |= FLAGGED;
      if (kinds.includes("out_of_range")) f |= OUT_OF_RANGE;
    }
    this.flags[seq] = f;
    this.block(seq);
    this.count = seq + 1;
    this.count_stat(seq);
    return true;
  }

  /** A "history" page (docs/api.md): columns, times as millisecond steps, sparse flags. */
  addPage(page) {
    if (page.first_seq !== this.count) return false;
    const n = page.bpm.length;
    const first = page.first_seq;
    this.grow(first + n);
    let ms = Math.round(page.t0 * 1000);
    for (let i = 0; i < n; i++) {
      ms += page.dt_ms[i];
      this.t[first + i] = ms / 1000;
      this.bpm[first + i] = page.bpm[i];
      this.flags[first + i] = 0;
    }
    for (const i of page.filled) this.flags[first + i] |= FILLED;
    for (const i of page.after_gap) this.flags[first + i] |= AFTER_GAP;
    for (const [i, kinds] of page.kinds) {
      this.kinds.set(first + i, kinds);
      if (kinds.some((k) => k !== "missing")) this.flags[first + i] |= FLAGGED;
      if (kinds.includes("out_of_range")) this.flags[first + i] |= OUT_OF_RANGE;
    }
    this.count = first + n;
    for (let s = first; s < this.count; s++) {
      this.block(s);
      this.count_stat(s);
    }
    return true;
  }

  /** Keep readings [0, n) only (a jump backwards: the replay goes on from n). */
  truncate(n) {
    if (n >= this.count) return;
    this.count = Math.max(0, n);
    for (const seq of [...this.kinds.keys()]) if (seq >= this.count) this.kinds.delete(seq);
    this.resetStats();
    for (let s = 0; s < this.count; s++) this.count_stat(s);
    for (let s = this.count - (this.count % BIG); s < this.count; s++) this.block(s); // the cut (big) block
  }

  // the rule of hrviz/core/model.py counts_in_stats: filled and impossible values are no measurements
  measured(seq) {
    return (this.flags[seq] & (FILLED | OUT_OF_RANGE)) === 0;
  }

  count_stat(seq) {
    if (!this.measured(seq)) return;
    const st = this.stats;
    const v = this.bpm[seq];
    st.n += 1;
    st.sum += v;
    if (v < st.min) st.min = v;
    if (v > st.max) st.max = v;
  }

  /** The first index in [0, count) whose time is >= t. */
  lowerBound(t) {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  point(seq) {
    return {
      seq,
      t: this.t[seq],
      bpm: this.bpm[seq],
      filled: (this.flags[seq] & FILLED) !== 0,
      afterGap: (this.flags[seq] & AFTER_GAP) !== 0,
      kinds: this.kinds.get(seq) || [],
    };
  }
}

/** One reading into block b's summary (its first reading starts it afresh). */
function summarise(lo, hi, gaps, b, first, v, gap) {
  if (first) {
    lo[b] = v;
    hi[b] = v;
    gaps[b] = 0;
    return;
  }
  if (v < lo[b]) lo[b] = v;
  if (v > hi[b]) hi[b] = v;
  if (gap) gaps[b] = 1;
}
