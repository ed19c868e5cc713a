import Alerting
import Foundation
import Hummingbird
import Profiles
import Reports
import Storage

/// `/v1/silences`: create (admin), list and read (read), expire (admin). Bodies and answers
/// are documented in docs/alerts.md ("Silences") and openapi.yaml.
extension DriftAPI {
    /// The longest silence accepted: a silence meant as "forever" should be a rule change.
    static let longestSilenceMilliseconds: Int64 = 366 * 86_400_000

    func silenceJSON(_ s: StoredSilence, now: Int64) -> JSONValue {
        let silence = Silence(s)
        return .object([
            ("id", .int(s.id)),
            ("state", .string(silence?.state(at: now) ?? "unreadable")),
            ("matchers", .array((silence?.matchers ?? []).map { .string($0.description) })),
            ("starts_at", .string(RFC3339.format(milliseconds: s.startsAt))),
            ("ends_at", .string(RFC3339.format(milliseconds: s.endsAt))),
            ("created_by", .string(s.createdBy)),
            ("comment", .string(s.comment)),
            ("created_at", .string(RFC3339.format(milliseconds: s.createdAt))),
        ])
    }

    /// `?state=active` (default: active and pending), `pending`, `expired` (of the last 7 days)
    /// or `all`.
    func listSilences(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let state = QueryParameters(request: request).string("state")
        guard state == nil || ["active", "pending", "expired", "all"].contains(state!) else {
            throw APIError.badRequest("state='\(state!)' must be active, pending, expired or all")
        }
        let now = self.now()
        let rows = try await silences.list(
            project: principal.project, now: now, includeExpired: state == "expired" || state == "all")
        let selected = state == nil || state == "all" ? rows : rows.filter { Silence($0)?.state(at: now) == state }
        return jsonResponse(.object([("silences", .array(selected.map { silenceJSON($0, now: now) }))]))
    }

    func getSilence(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let id = try silenceID(context)
        guard let s = try await silences.get(project: principal.project, id: id) else {
            throw APIError.notFound("no silence \(id) in this project")
        }
        return jsonResponse(silenceJSON(s, now: now()))
    }

    /// Ends the silence now; the alerts it muted are notified again at their next evaluation.
    func expireSilence(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let id = try silenceID(context)
        let now = self.now()
        guard let s = try await silences.expire(project: principal.project, id: id, now: now) else {
            throw APIError.notFound("no silence \(id) in this project")
        }
        return jsonResponse(silenceJSON(s, now: now))
    }

    /// Body: `{"matchers": [...], "ends_at": T | "duration": "2h", "starts_at": T?, "comment": "...",
    /// "created_by": "..."}`; matchers are strings in Alertmanager's notation or Alertmanager's
    /// `{"name", "value", "isRegex", "isEqual"}` objects; Alertmanager's camelCase field names
    /// (`startsAt`, `endsAt`, `createdBy`) are accepted too.
    func createSilence(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 64 * 1024)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "too_large", "a silence body is limited to 64 KiB")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
        else {
            throw APIError.badRequest("the body must be a JSON object with matchers, ends_at or duration, and comment")
        }
        let allowed: Set<String> = [
            "matchers", "starts_at", "startsAt", "ends_at", "endsAt", "duration", "comment", "created_by", "createdBy",
        ]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.badRequest(
                "unknown field '\(unknown)' (matchers, starts_at, ends_at, duration, comment, created_by)")
        }
        let matchers = try Self.silenceMatchers(object["matchers"])
        let now = self.now()
        func time(_ names: [String]) throws -> Int64? {
            guard let name = names.first(where: { object[$0] != nil }) else { return nil }
            guard let text = object[name] as? String, let ms = RFC3339.parse(text) else {
                throw APIError.badRequest("\(name) must be an RFC 3339 time such as 2026-11-25T12:00:00Z")
            }
            return ms
        }
        let startsAt = max(try time(["starts_at", "startsAt"]) ?? now, now)
        var endsAt = try time(["ends_at", "endsAt"])
        if let duration = object["duration"] {
            guard endsAt == nil else { throw APIError.badRequest("give ends_at or duration, not both") }
            guard let text = duration as? String, let ms = Durations.milliseconds(text), ms > 0 else {
                throw APIError.badRequest("duration must be a positive duration such as 30m, 2h or 3d")
            }
            endsAt = startsAt + ms
        }
        guard let endsAt else { throw APIError.badRequest("a silence needs ends_at or duration") }
        guard endsAt > startsAt else {
            throw APIError.badRequest("the silence must end after it starts (and after now)")
        }
        guard endsAt - startsAt <= Self.longestSilenceMilliseconds else {
            throw APIError.badRequest("a silence may last at most 366 days; change the rule instead")
        }
        guard let comment = (object["comment"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !comment.isEmpty
        else {
            throw APIError.badRequest("a silence needs a comment saying why (it is shown to whoever is on call)")
        }
        let createdBy = (object["created_by"] ?? object["createdBy"]) as? String ?? principal.tokenName
        guard comment.utf8.count <= 4096, createdBy.utf8.count <= 200 else {
            throw APIError.badRequest("comment is limited to 4,096 bytes and created_by to 200")
        }
        let encoded = String(decoding: try JSONEncoder().encode(matchers), as: UTF8.self)
        let stored = try await silences.create(
            project: principal.project, matchersJSON: encoded, startsAt: startsAt, endsAt: endsAt,
            createdBy: createdBy, comment: comment)
        return jsonResponse(silenceJSON(stored, now: now), status: .created)
    }

    /// 1–32 matchers, at least one of which does not match the empty string (Alertmanager's rule:
    /// a silence must not mute every alert).
    static func silenceMatchers(_ value: Any?) throws -> [LabelMatcher] {
        guard let items = value as? [Any], !items.isEmpty else {
            throw APIError.badRequest("matchers must be a non-empty list such as [\"model=\\\"fraud\\\"\"]")
        }
        guard items.count <= 32 else { throw APIError.badRequest("a silence takes at most 32 matchers") }
        var matchers: [LabelMatcher] = []
        for (index, item) in items.enumerated() {
            do {
                if let text = item as? String {
                    matchers.append(try LabelMatcher.parse(text))
                } else if let object = item as? [String: Any], let name = object["name"] as? String,
                    let value = object["value"] as? String
                {
                    matchers.append(
                        try LabelMatcher(
                            name: name, value: value, isRegex: object["isRegex"] as? Bool ?? false,
                            isEqual: object["isEqual"] as? Bool ?? true))
                } else {
                    throw APIError.badRequest(
                        "matchers[\(index)] must be a string such as model=\"fraud\" or an object with name and value")
                }
            } catch let error as MatcherError {
                throw APIError.badRequest("matchers[\(index)]: \(error.message)")
            }
        }
        guard matchers.contains(where: { !$0.matches([:]) }) else {
            throw APIError.badRequest("at least one matcher must not match an empty label (it would mute every alert)")
        }
        return matchers
    }

    func silenceID(_ context: DriftRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw APIError.badRequest("silence id '\(text)' is not a number") }
        return id
    }
}

extension Silence {
    /// A stored silence, or nil when its matchers cannot be read (a row written by hand, say):
    /// such a silence is never applied as "match everything".
    init?(_ stored: StoredSilence) {
        guard let matchers = try? JSONDecoder().decode([LabelMatcher].self, from: Data(stored.matchersJSON.utf8)),
            !matchers.isEmpty
        else { return nil }
        self.init(
            id: stored.id, matchers: matchers, startsAt: stored.startsAt, endsAt: stored.endsAt,
            createdBy: stored.createdBy, comment: stored.comment)
    }
}
