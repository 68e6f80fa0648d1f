/** A point as Chart.js reads it with `parsing: false`. */
export interface Point {
  x: number;
  y: number;
}

/**
 * How a bucket of consecutive points is drawn: `minmax`, its lowest and highest point (spikes
 * survive: for raw values); `mean`, one point at its mean (a trend: for smoothed values).
 */
export type Reduction = 'minmax' | 'mean';

interface Bucket {
  count: number;
  /** Running means: exact for constant values, where sums divided by counts pick up rounding errors. */
  meanX: number;
  meanY: number;
  /** The first lowest point and the last highest one, with their indices in the series. */
  low: Point;
  lowIndex: number;
  high: Point;
  highIndex: number;
}

function merge(a: Bucket, b: Bucket): Bucket {
  const share = b.count / (a.count + b.count);
  return {
    count: a.count + b.count,
    meanX: a.meanX + (b.meanX - a.meanX) * share,
    meanY: a.meanY + (b.meanY - a.meanY) * share,
    ...(b.low.y < a.low.y ? { low: b.low, lowIndex: b.lowIndex } : { low: a.low, lowIndex: a.lowIndex }),
    ...(b.high.y >= a.high.y ? { high: b.high, highIndex: b.highIndex } : { high: a.high, highIndex: a.highIndex }),
  };
}

/**
 * Decimation that grows with the series: points fall into buckets of `size` consecutive points
 * (a power of two), each drawn as one or two points (see `Reduction`). When the buckets run out,
 * neighbours merge and `size` doubles. Appending costs O(1), merging O(buckets), and `points` (the
 * Chart.js dataset's data) never holds more than 2 × `maxBuckets` points, however long the run.
 */
export class Decimator {
  /** Mutated in place, so Chart.js sees the change on `update()`. */
  readonly points: Point[] = [];
  private buckets: Bucket[] = [];
  private size = 1;
  private total = 0;
  /** First bucket whose points are not in `points` yet. */
  private dirty = 0;

  constructor(
    private readonly reduction: Reduction,
    private readonly maxBuckets: number,
  ) {}

  push(x: number, y: number): void {
    const last = this.buckets.at(-1);
    if (last && last.count < this.size) {
      if (y < last.low.y) [last.low, last.lowIndex] = [{ x, y }, this.total];
      if (y >= last.high.y) [last.high, last.highIndex] = [{ x, y }, this.total];
      last.count++;
      last.meanX += (x - last.meanX) / last.count;
      last.meanY += (y - last.meanY) / last.count;
    } else {
      if (this.buckets.length === this.maxBuckets) this.mergeNeighbours();
      const point = { x, y };
      this.buckets.push({ count: 1, meanX: x, meanY: y, low: point, lowIndex: this.total, high: point, highIndex: this.total });
    }
    this.dirty = Math.min(this.dirty, this.buckets.length - 1);
    this.total++;
  }

  /** Brings `points` up to date with the pushes so far (only the changed tail is rewritten). */
  flush(): void {
    if (this.dirty >= this.buckets.length) return;
    const start = this.dirty * this.pointsPerBucket();
    const tail = this.buckets.slice(this.dirty).flatMap((bucket) => this.bucketPoints(bucket));
    this.points.splice(start, this.points.length - start, ...tail);
    this.dirty = this.buckets.length;
  }

  private pointsPerBucket(): number {
    return this.reduction === 'mean' || this.size === 1 ? 1 : 2;
  }

  /** A bucket's points in series order (one while it holds one point). */
  private bucketPoints(bucket: Bucket): Point[] {
    if (bucket.count === 1) return [bucket.low];
    if (this.reduction === 'mean') return [{ x: bucket.meanX, y: bucket.meanY }];
    return bucket.lowIndex < bucket.highIndex ? [bucket.low, bucket.high] : [bucket.high, bucket.low];
  }

  private mergeNeighbours(): void {
    const merged: Bucket[] = [];
    for (let i = 0; i < this.buckets.length; i += 2) merged.push(merge(this.buckets[i], this.buckets[i + 1]));
    this.buckets = merged;
    this.size *= 2;
    this.dirty = 0;
  }
}
