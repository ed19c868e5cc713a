public import Sketches

extension WhylogsCodec {
    /// The quantiles whylogs reports (`to_pandas()`, `distribution/q_*`) for a KLL sketch.
    ///
    /// whylogs 1.x queries its sketches with its fork `whylogs-sketching` 3.4, whose sorted view
    /// answers an exclusive quantile query differently from DataSketches 5.x
    /// (``KLLSketch/quantile(rank:inclusive:)``) once the sketch has compacted (items of weight
    /// > 1): with w = floor(rank · n), whylogs returns the first retained item (ascending) whose
    /// *preceding* cumulative weight is ≥ w, or the largest item if there is none; DataSketches
    /// 5.x returns the first item whose *own* cumulative weight is > w. Both agree while every
    /// weight is 1 (n ≤ k). Source: whylabs/whylogs-sketching branch `dev/jamie/python3_12`,
    /// `common/include/quantile_sketch_sorted_view_impl.hpp` (`convert_to_cummulative<false>`
    /// stores the preceding weight; `get_quantile` takes `lower_bound` on it) and
    /// `python/src/kll_wrapper.cpp` (`inclusive = false` by default).
    ///
    /// - Returns: one quantile per rank, or nil when the sketch is empty.
    /// - Precondition: every rank is in 0...1.
    /// - Complexity: O(r · numLevels + q log r) for r retained items and q ranks.
    public static func whylogsQuantiles(of sketch: KLLSketch<Double>, ranks: [Double]) -> [Double]? {
        guard !sketch.isEmpty else { return nil }
        let view = sketch.sortedView()
        let cumulative = view.cumulativeWeights
        return ranks.map { rank in
            precondition(rank >= 0 && rank <= 1, "whylogs quantile: rank \(rank) outside 0...1")
            let weight = UInt64(rank * Double(view.totalWeight))
            // First i with preceding(i) ≥ weight, preceding(0) = 0, preceding(i) = cumulative[i − 1].
            var low = 0
            var high = view.items.count
            while low < high {
                let middle = (low + high) / 2
                let preceding = middle == 0 ? 0 : cumulative[middle - 1]
                if preceding < weight { low = middle + 1 } else { high = middle }
            }
            return low == view.items.count ? view.items[view.items.count - 1] : view.items[low]
        }
    }
}
