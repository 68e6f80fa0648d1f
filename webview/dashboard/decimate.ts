/** A point as Chart.js reads it with `parsing: false`. */
export interface Point {
  x: number;
  y: number;
}

/** One bucket of consecutive points: its lowest and highest point (first lowest, last highest). */
interface Bucket {
  count: number;
  low: Point;
  lowIndex: number;
  high: Point;
  highIndex: number;
}

/**
 * Min-max decimation that grows with the series: points fall into buckets of `size` consecutive
 * points (a power of two), each drawn as its lowest and highest point, so spikes survive. When
 * the buckets run out, neighbours merge and `size` doubles: appending costs O(1), merging
 * O(buckets), and `points` (the Chart.js dataset's data) never holds more than 2 × `maxBuckets`.
 */
export class MinMaxDecimator {
  /** Mutated in place, so Chart.js sees the change on `update()`. */
  readonly points: Point[] = [];
  private buckets: Bucket[] = [];
  private size = 1;
  private total = 0;
  /** First bucket whose points are not in `points` yet. */
  private dirty = 0;

  constructor(private readonly maxBuckets: number) {}

  push(x: number, y: number): void {
    let bucket = this.buckets.at(-1);
    if (!bucket || bucket.count === this.size) {
      if (this.buckets.length === this.maxBuckets) this.merge();
      const point = { x, y };
      this.buckets.push({ count: 1, low: point, lowIndex: this.total, high: point, highIndex: this.total });
      this.dirty = Math.min(this.dirty, this.buckets.length - 1);
    } else {
      if (y < bucket.low.y) [bucket.low, bucket.lowIndex] = [{ x, y }, this.total];
      if (y >= bucket.high.y) [bucket.high, bucket.highIndex] = [{ x, y }, this.total];
      bucket.count++;
      this.dirty = Math.min(this.dirty, this.buckets.length - 1);
    }
    this.total++;
  }

  /** Brings `points` up to date with the pushes so far (only the changed tail is rewritten). */
  flush(): void {
    if (this.dirty >= this.buckets.length) return;
    const perBucket = this.size === 1 ? 1 : 2;
    const start = this.dirty * perBucket;
    const tail = this.buckets.slice(this.dirty).flatMap(bucketPoints);
    this.points.splice(start, this.points.length - start, ...tail);
    this.dirty = this.buckets.length;
  }

  private merge(): void {
    const merged: Bucket[] = [];
    for (let i = 0; i < this.buckets.length; i += 2) {
      const [a, b] = [this.buckets[i], this.buckets[i + 1]];
      merged.push({
        count: a.count + b.count,
        ...(b.low.y < a.low.y ? { low: b.low, lowIndex: b.lowIndex } : { low: a.low, lowIndex: a.lowIndex }),
        ...(b.high.y >= a.high.y ? { high: b.high, highIndex: b.highIndex } : { high: a.high, highIndex: a.highIndex }),
      });
    }
    this.buckets = merged;
    this.size *= 2;
    this.dirty = 0;
  }
}

/** A bucket's points in series order; one point when it holds one. */
function bucketPoints(bucket: Bucket): Point[] {
  if (bucket.count === 1) return [bucket.low];
  return bucket.lowIndex < bucket.highIndex ? [bucket.low, bucket.high] : [bucket.high, bucket.low];
}
