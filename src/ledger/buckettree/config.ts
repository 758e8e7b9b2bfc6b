/**
 * Shape of the bucket tree: numBuckets leaf buckets grouped maxGroupingAtEachLevel at a
 * time up to one root. Level 0 is the root, `lowestLevel` the leaves.
 */
export interface BucketTreeOptions {
  numBuckets: number
  maxGroupingAtEachLevel: number
}

/** peer/core.yaml's values, what a running Fabric peer uses. */
export const coreYamlBucketTree: BucketTreeOptions = { numBuckets: 1000003, maxGroupingAtEachLevel: 5 }

export class BucketTreeConfig {
  readonly numBuckets: number
  readonly grouping: number
  readonly lowestLevel: number
  /** bucketsAt[level] = number of buckets at that level. */
  readonly bucketsAt: number[]

  constructor ({ numBuckets, maxGroupingAtEachLevel }: BucketTreeOptions) {
    if (!Number.isSafeInteger(numBuckets) || numBuckets < 2) throw new Error(`buckettree numBuckets must be an integer ≥ 2, got ${numBuckets}`)
    if (!Number.isSafeInteger(maxGroupingAtEachLevel) || maxGroupingAtEachLevel < 2) {
      throw new Error(`buckettree maxGroupingAtEachLevel must be an integer ≥ 2, got ${maxGroupingAtEachLevel}`)
    }
    this.numBuckets = numBuckets
    this.grouping = maxGroupingAtEachLevel
    const sizes = [numBuckets]
    while (sizes[sizes.length - 1] > 1) sizes.push(Math.ceil(sizes[sizes.length - 1] / this.grouping))
    this.bucketsAt = sizes.reverse()
    this.lowestLevel = sizes.length - 1
  }

  parentBucket (bucketNumber: number): number {
    return Math.ceil(bucketNumber / this.grouping)
  }

  /** Position (0-based) of a child bucket within its parent node. */
  childIndex (bucketNumber: number): number {
    return (bucketNumber - 1) % this.grouping
  }
}
