import Alerting
import Drift
import Foundation
import Hummingbird
import Logging
import Profiles
import Reports
import Storage

/// The HTTP API (docs/openapi.yaml): ingest, queries, baselines, and the operational
/// endpoints.
struct DriftAPI: Sendable {
    let configuration: ServerConfiguration
    let pool: ConnectionPool
    let profiles: ProfileStore
    let streams: StreamStore
    let baselines: BaselineStore
    let silences: SilenceStore
    let metricStore: MetricStore
    let ingest: IngestQueue
    let metrics: ServerMetrics
    let migrator: Migrator
    let now: @Sendable () -> Int64

    func register(on router: Router<DriftRequestContext>, authenticator: Authenticator?) {
        router.add(middleware: ErrorMiddleware<DriftRequestContext>())
        router.get("/healthz") { _, _ in jsonResponse(.object([("status", .string("ok"))])) }
        router.get("/readyz") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition(pool: pool))))
        }
        router.get("/openapi.yaml") { _, _ in
            guard let text = OpenAPIDocument.text else {
                throw APIError(
                    .notFound, "not_found",
                    "openapi.yaml is not installed (\(OpenAPIDocument.bundleName) next to the executable)")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let v1 = router.group("/v1").add(middleware: AuthMiddleware(authenticator: authenticator))
        v1.post("/profiles") { request, context in try await upload(request, context) }
        v1.get("/models") { _, context in try await listModels(context) }
        v1.get("/alerts") { request, context in try await listAlerts(request, context) }
        v1.get("/silences") { request, context in try await listSilences(request, context) }
        v1.post("/silences") { request, context in try await createSilence(request, context) }
        v1.get("/silences/{id}") { request, context in try await getSilence(request, context) }
        v1.delete("/silences/{id}") { request, context in try await expireSilence(request, context) }
        v1.get("/models/{model}/profile") { request, context in try await profile(request, context) }
        v1.get("/models/{model}/drift") { request, context in try await drift(request, context) }
        v1.get("/models/{model}/metrics") { request, context in try await series(request, context) }
        v1.get("/models/{model}/baselines") { request, context in try await listBaselines(request, context) }
        v1.get("/models/{model}/baselines/{name}") { request, context in try await getBaseline(request, context) }
        v1.put("/models/{model}/baselines/{name}") { request, context in try await putBaseline(request, context) }
        v1.delete("/models/{model}/baselines/{name}") { request, context in
            try await deleteBaseline(request, context)
        }
    }

    // MARK: Operations

    func ready() async throws -> Response {
        guard await pool.ping() else {
            return jsonResponse(
                .object([("status", .string("unavailable")), ("reason", .string("database unreachable"))]),
                status: .serviceUnavailable)
        }
        let migrator = self.migrator
        let status = try? await pool.withConnection { try migrator.status($0) }
        guard let status, status.isCurrent else {
            return jsonResponse(
                .object([("status", .string("unavailable")), ("reason", .string("migrations pending"))]),
                status: .serviceUnavailable)
        }
        return jsonResponse(
            .object([("status", .string("ready")), ("schema_version", .int(Int64(status.applied.max() ?? 0)))]))
    }

    // MARK: Ingest

    func upload(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.ingest)
        let started = ContinuousClock.now
        let limit = configuration.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            metrics.uploadsRejected.increment()
            throw APIError(.contentTooLarge, "too_large", "body of \(declared) bytes exceeds the limit of \(limit)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            metrics.uploadsRejected.increment()
            throw APIError(.contentTooLarge, "too_large", "body exceeds the limit of \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        do {
            let ingestRequest = try prepare(bytes, request, project: principal.project)
            let result = try await ingest.submit(ingestRequest)
            metrics.ingestLatency.record(ContinuousClock.now - started)
            if result.duplicate {
                metrics.uploadsDuplicate.increment()
            } else {
                metrics.uploadsAccepted.increment()
                metrics.ingestBytes.increment(by: Int64(bytes.count))
            }
            return jsonResponse(
                .object([("id", .string(result.uploadID.description)), ("duplicate", .bool(result.duplicate))]),
                status: .accepted)
        } catch let error as APIError {
            metrics.uploadsRejected.increment()
            throw error
        } catch let error as StorageError where error.code == .misuse {
            metrics.uploadsRejected.increment()
            throw APIError(.badRequest, "invalid_profile", error.message)
        } catch let error as StorageError where error.isTransient {
            metrics.uploadsRejected.increment()
            throw APIError(
                .serviceUnavailable, "unavailable", "the database is unavailable (\(error.message)); retry later")
        }
    }

    /// Validates an upload completely (decodes every sketch) and fills in what whylogs
    /// profiles leave out: the model (`?model=`) and the window (`?window=`, default one day).
    func prepare(_ bytes: [UInt8], _ request: Request, project: String) throws -> ProfileStore.IngestRequest {
        guard !bytes.isEmpty else { throw APIError(.badRequest, "invalid_profile", "the body is empty") }
        var (profile, format): (DatasetProfile, ProfileFormat)
        do {
            (profile, format) = try ProfileCodec.decode(bytes)
        } catch {
            throw APIError(.badRequest, "invalid_profile", "the body is not a valid profile: \(error)")
        }
        let query = QueryParameters(request: request)
        if let model = query.string("model") {
            // whylogs profiles name at most a dataset, which the caller may rename; a native
            // profile's model is its identity.
            guard format == .whylogs || profile.model.isEmpty || profile.model == model else {
                throw APIError(
                    .badRequest, "invalid_profile",
                    "?model=\(model) contradicts the profile's model '\(profile.model)'")
            }
            profile.model = model
        }
        guard !profile.model.isEmpty else {
            throw APIError(.badRequest, "invalid_profile", "the profile names no model; add ?model=NAME")
        }
        guard profile.model.utf8.count <= 200 else {
            throw APIError(.badRequest, "invalid_profile", "model names are at most 200 bytes")
        }
        if profile.windowLength == 0 {
            guard format == .whylogs else {
                throw APIError(
                    .badRequest, "invalid_profile",
                    "the profile has no time window; profile with a window (e.g. drift profile --window 1h)")
            }
            let text = query.string("window") ?? "1d"
            guard let length = Durations.milliseconds(text), length > 0 else {
                throw APIError.badRequest("window='\(text)' is not a duration such as 1h or 1d")
            }
            let start = profile.windowStart
            profile.windowStart = start >= 0 ? start - start % length : start - ((start % length) + length) % length
            profile.windowLength = length
        }
        var key = request.headers[.idempotencyKey]
        if let k = key {
            guard !k.isEmpty, k.utf8.count <= 255 else {
                throw APIError.badRequest("Idempotency-Key must be 1 to 255 bytes")
            }
        } else {
            key = nil
        }
        return ProfileStore.IngestRequest(project: project, bytes: bytes, profile: profile, idempotencyKey: key)
    }

    // MARK: Queries

    func listModels(_ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let models = try await streams.models(project: principal.project)
        return jsonResponse(
            .object([
                (
                    "models",
                    .array(
                        models.map { m in
                            .object([
                                ("name", .string(m.model)), ("versions", .array(m.versions.map(JSONValue.string))),
                                ("segments", .array(m.segments.map(JSONValue.string))),
                                ("streams", .int(Int64(m.streamCount))),
                            ])
                        })
                )
            ]))
    }

    func model(_ context: DriftRequestContext) throws -> String {
        try context.parameters.require("model")
    }

    /// The merged rollups of a model over the query's range.
    func targetProfile(
        _ request: Request, _ context: DriftRequestContext, project: String, model: String
    ) async throws -> (profile: DatasetProfile, from: Int64, to: Int64, segment: Segment?) {
        let query = QueryParameters(request: request)
        let (from, to) = try query.range(now: now())
        let segment = try query.segment()
        let granularity = try query.granularity(from: from, to: to)
        let version = query.string("version")
        let segmentText = segment?.description
        let merged = try await pool.withConnection { connection -> DatasetProfile? in
            var merged: DatasetProfile?
            for bytes in try EvaluationStore.rollupProfiles(
                project: project, model: model, granularity: granularity, from: from, to: to, segment: segmentText,
                connection)
            {
                let profile = try NativeCodec.decode(bytes)
                if let version, profile.modelVersion != version { continue }
                if merged == nil { merged = profile } else { try merged?.merge(profile) }
            }
            return merged
        }
        guard let merged else {
            throw APIError.notFound(
                "no data for model '\(model)' from \(RFC3339.format(milliseconds: from)) to "
                    + "\(RFC3339.format(milliseconds: to))\(segment.map { " in segment \($0)" } ?? "")")
        }
        return (merged, from, to, segment)
    }

    func profile(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let target = try await targetProfile(request, context, project: principal.project, model: try model(context))
        return jsonResponse(ProfileInspection(target.profile, format: .native).json, pretty: true)
    }

    func drift(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let model = try model(context)
        let query = QueryParameters(request: request)
        var options = DriftOptions()
        do {
            if let columns = query.string("columns") {
                options.columns = columns.split(separator: ",").map { String($0) }
            }
            for spec in request.uri.queryParameters.getAll("stattest") { try options.setMethod(String(spec)) }
            for spec in request.uri.queryParameters.getAll("threshold") { try options.setThreshold(String(spec)) }
            try options.validate()
        } catch {
            throw APIError.badRequest("\(error)")
        }
        let target = try await targetProfile(request, context, project: principal.project, model: model)
        let baselineName = query.string("baseline")
        let resolved = try await pool.withConnection { connection -> (Baseline, DatasetProfile?)? in
            let all = try EvaluationStore.baselines(project: principal.project, model: model, connection)
            guard
                let baseline = baselineName.map({ name in all.first { $0.name == name } })
                    ?? all.first(where: \.isDefault)
            else { return nil }
            let profile = try BaselineResolver.profile(
                baseline, for: .init(start: target.from, streamID: nil, segment: target.segment?.description),
                connection)
            return (baseline, profile)
        }
        guard let (baseline, reference) = resolved else {
            throw APIError.notFound(
                baselineName.map { "model '\(model)' has no baseline '\($0)'" }
                    ?? "model '\(model)' has no default baseline; pass ?baseline=NAME or set a default")
        }
        guard let reference else {
            throw APIError.notFound("baseline '\(baseline.name)' covers no data")
        }
        let report = DriftReport.compare(reference: reference, target: target.profile, options: options)
        return jsonResponse(DiffRendering.json(report), pretty: true)
    }

    func series(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let model = try model(context)
        let query = QueryParameters(request: request)
        guard let metric = query.string("metric") else { throw APIError.badRequest("metric is required") }
        let column = query.string("column") ?? ""
        let (from, to) = try query.range(now: now(), defaultSpan: 7 * 86_400_000)
        let granularity = try query.granularity(from: from, to: to)
        let points = try await metricStore.series(
            project: principal.project, model: model, column: column, metric: metric, granularity: granularity,
            from: from, to: to, segment: try query.segment(), baseline: query.string("baseline"))
        return jsonResponse(
            .object([
                ("model", .string(model)), ("column", .string(column)), ("metric", .string(metric)),
                ("granularity", .string(granularity.rawValue)),
                (
                    "points",
                    .array(
                        points.map { p in
                            var members: [(String, JSONValue)] = [
                                ("window_start", .string(RFC3339.format(milliseconds: p.windowStart))),
                                ("segment", .string(p.segment)), ("version", .string(p.modelVersion)),
                                ("baseline", .string(p.baseline)), ("value", .number(p.value)),
                            ]
                            if let b = p.bound { members.append(("bound", .number(b))) }
                            if let pv = p.pValue { members.append(("p_value", .number(pv))) }
                            return .object(members)
                        })
                ),
            ]))
    }

    // MARK: Alerts

    /// The project's current alerts (pending, firing, and resolved ones not yet notified),
    /// optionally of one state.
    func listAlerts(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let state = QueryParameters(request: request).string("state")
        if let state, !["pending", "firing", "resolved"].contains(state) {
            throw APIError.badRequest("state='\(state)' must be pending, firing or resolved")
        }
        let rows = try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT state::text FROM alert_states WHERE project = $1 AND ($2::text IS NULL OR status = $2)
                ORDER BY rule, alert_key
                """, [.text(principal.project), .text(state)]
            ).map { try $0.decode(String.self, at: 0) }
        }
        // The stored states are the evaluator's JSON already; wrap them without re-encoding.
        let body = "{\"alerts\": [" + rows.joined(separator: ", ") + "]}\n"
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    // MARK: Baselines

    func baselineJSON(_ b: Baseline) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(b.name)), ("model", .string(b.model)), ("segment", .string(b.segment)),
            ("default", .bool(b.isDefault)),
            ("updated_at", .string(RFC3339.format(milliseconds: b.updatedAt.milliseconds))),
        ]
        switch b.kind {
        case .profile(let bytes):
            members.append(("kind", .string("profile")))
            members.append(("bytes", .int(Int64(bytes.count))))
        case .range(let from, let to):
            members.append(("kind", .string("range")))
            members.append(("from", .string(RFC3339.format(milliseconds: from))))
            members.append(("to", .string(RFC3339.format(milliseconds: to))))
        case .trailing(let ms):
            members.append(("kind", .string("trailing")))
            members.append(("span_seconds", .int(ms / 1000)))
        }
        return .object(members)
    }

    func listBaselines(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let list = try await baselines.list(project: principal.project, model: try model(context))
        return jsonResponse(.object([("baselines", .array(list.map(baselineJSON)))]))
    }

    func getBaseline(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.read)
        let model = try model(context)
        let name = try context.parameters.require("name")
        guard let b = try await baselines.get(project: principal.project, model: model, name: name) else {
            throw APIError.notFound("model '\(model)' has no baseline '\(name)'")
        }
        return jsonResponse(baselineJSON(b))
    }

    /// The body is a profile (native or whylogs), or JSON
    /// `{"kind": "range", "from": T, "to": T}` / `{"kind": "trailing", "span": "7d"}`;
    /// `?default=true` makes it the model's default, `?segment=` limits it to a segment.
    func putBaseline(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let model = try model(context)
        let name = try context.parameters.require("name")
        guard !name.isEmpty, name.utf8.count <= 200 else { throw APIError.badRequest("baseline names are 1–200 bytes") }
        let query = QueryParameters(request: request)
        let isDefault = query.string("default").map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(
                .contentTooLarge, "too_large", "body exceeds the limit of \(configuration.maxBodyBytes) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        let kind: BaselineKind
        if bytes.first == UInt8(ascii: "{") {
            kind = try baselineSpec(bytes)
        } else {
            do {
                _ = try ProfileCodec.decode(bytes)
            } catch {
                throw APIError(
                    .badRequest, "invalid_profile", "the body is neither a profile nor a JSON baseline: \(error)")
            }
            kind = .profile(bytes)
        }
        let segment = try query.segment() ?? .all
        let stored: Baseline
        do {
            stored = try await baselines.put(
                project: principal.project, model: model, name: name, kind: kind, segment: segment,
                isDefault: isDefault)
        } catch let error as StorageError where error.code == .misuse {
            throw APIError.badRequest(error.message)
        }
        let project = principal.project
        try await pool.withTransaction { try EvaluationStore.invalidate(project: project, model: model, $0) }
        return jsonResponse(baselineJSON(stored), status: .ok)
    }

    func baselineSpec(_ bytes: [UInt8]) throws -> BaselineKind {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw APIError.badRequest("the baseline JSON is not an object")
        }
        switch object["kind"] as? String {
        case "range":
            guard let fromText = object["from"] as? String, let toText = object["to"] as? String,
                let from = RFC3339.parse(fromText.count == 10 ? fromText + "T00:00:00Z" : fromText),
                let to = RFC3339.parse(toText.count == 10 ? toText + "T00:00:00Z" : toText)
            else {
                throw APIError.badRequest("a range baseline needs RFC 3339 'from' and 'to'")
            }
            return .range(from: from, to: to)
        case "trailing":
            guard let span = object["span"] as? String, let ms = Durations.milliseconds(span), ms > 0 else {
                throw APIError.badRequest("a trailing baseline needs 'span' such as \"7d\"")
            }
            return .trailing(milliseconds: ms)
        case let other:
            throw APIError.badRequest(
                "baseline 'kind' must be range or trailing (or send a profile), not \(other ?? "missing")")
        }
    }

    func deleteBaseline(_ request: Request, _ context: DriftRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let model = try model(context)
        let name = try context.parameters.require("name")
        guard try await baselines.delete(project: principal.project, model: model, name: name) else {
            throw APIError.notFound("model '\(model)' has no baseline '\(name)'")
        }
        let project = principal.project
        try await pool.withTransaction { try EvaluationStore.invalidate(project: project, model: model, $0) }
        return Response(status: .noContent)
    }
}
