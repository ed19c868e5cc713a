import Drift
import Profiles
import Storage

/// Turns a baseline definition into the profile it stands for.
enum BaselineResolver {
    /// The window the baseline is wanted for: a trailing baseline covers the span before
    /// `start`, restricted like the target (one stream, or one segment, or all).
    struct Target {
        var start: Int64
        var streamID: Int64?
        var segment: String?
    }

    /// The baseline's profile, or nil when its range holds no data.
    static func profile(
        _ baseline: Baseline, for target: Target, _ connection: PostgresConnection
    ) throws -> DatasetProfile? {
        switch baseline.kind {
        case .profile(let bytes):
            do {
                return try ProfileCodec.decode(bytes).profile
            } catch {
                throw APIError(
                    .internalServerError, "internal", "baseline '\(baseline.name)' does not decode: \(error)")
            }
        case .range(let from, let to):
            return try merged(
                project: baseline.project, model: baseline.model, from: from, to: to, streamID: nil,
                segment: baseline.segment == "*" ? nil : baseline.segment, connection)
        case .trailing(let ms):
            return try merged(
                project: baseline.project, model: baseline.model, from: target.start - ms, to: target.start,
                streamID: target.streamID, segment: target.segment, connection)
        }
    }

    /// The day granularity when the span is whole days, else hours.
    static func granularity(from: Int64, to: Int64) -> Granularity {
        let day = Granularity.day.milliseconds
        return from % day == 0 && to % day == 0 ? .day : .hour
    }

    /// The merge of a model's rollups over `[from, to)`, in window order, or nil.
    static func merged(
        project: String, model: String, from: Int64, to: Int64, streamID: Int64?, segment: String?,
        _ connection: PostgresConnection
    ) throws -> DatasetProfile? {
        let granularity = granularity(from: from, to: to)
        var merged: DatasetProfile?
        for bytes in try EvaluationStore.rollupProfiles(
            project: project, model: model, granularity: granularity, from: from, to: to, streamID: streamID,
            segment: segment, connection)
        {
            let profile = try NativeCodec.decode(bytes)
            if merged == nil { merged = profile } else { try merged?.merge(profile) }
        }
        return merged
    }
}
