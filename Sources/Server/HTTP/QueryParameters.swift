import Hummingbird
import Profiles
import Storage

/// Parsing of the query API's parameters, with errors that name the parameter.
struct QueryParameters {
    let request: Request

    func string(_ name: String) -> String? {
        guard let value = request.uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// An RFC 3339 time (or a date, meaning its midnight UTC).
    func time(_ name: String) throws -> Int64? {
        guard let text = string(name) else { return nil }
        let full = text.count == 10 ? text + "T00:00:00Z" : text
        guard let ms = RFC3339.parse(full) else {
            throw APIError.badRequest("\(name)='\(text)' is not an RFC 3339 time such as 2024-05-01T00:00:00Z")
        }
        return ms
    }

    /// `from` and `to` (default: the day before now), checked.
    func range(now: Int64, defaultSpan: Int64 = 86_400_000) throws -> (from: Int64, to: Int64) {
        let to = try time("to") ?? now
        let from = try time("from") ?? (to - defaultSpan)
        guard from < to else { throw APIError.badRequest("from must be before to") }
        guard to - from <= 3700 * 86_400_000 else { throw APIError.badRequest("from–to spans more than 3700 days") }
        return (from, to)
    }

    /// `segment=k=v,k=v` (or `*`): nil when absent or `*`.
    func segment() throws -> Segment? {
        guard let text = string("segment"), text != "*" else { return nil }
        var tags: [String: String] = [:]
        for part in text.split(separator: ",") {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else {
                throw APIError.badRequest("segment '\(text)': expected key=value[,key=value]")
            }
            let key = String(part[..<eq])
            guard tags[key] == nil else { throw APIError.badRequest("segment '\(text)': key '\(key)' twice") }
            tags[key] = String(part[part.index(after: eq)...])
        }
        return Segment(tags)
    }

    /// `granularity=hour|day`, else the day granularity for whole-day ranges.
    func granularity(from: Int64, to: Int64) throws -> Granularity {
        guard let text = string("granularity") else { return BaselineResolver.granularity(from: from, to: to) }
        guard let g = Granularity(rawValue: text) else {
            throw APIError.badRequest("granularity='\(text)' must be hour or day")
        }
        return g
    }
}
