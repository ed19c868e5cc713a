public import Hummingbird
import Reports

/// An error answered as `{"error": {"code": "...", "message": "..."}}` (DESIGN.md, "External
/// contracts"). `code` is stable and machine-readable; `message` names the problem for people.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"driftwatch\"" }
        if status == .serviceUnavailable { headers[.retryAfter] = "1" }
        let body = JSONValue.object([
            ("error", .object([("code", .string(code)), ("message", .string(message))]))
        ]).serialized()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
}

/// Turns every error a route throws into the JSON error shape: Hummingbird's own (unknown route,
/// body too large), ours, and unexpected ones (500, logged, details not leaked).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let code: String
            var message = error.body ?? ""
            switch error.status {
            case .notFound:
                code = "not_found"
                if message.isEmpty { message = "no route for \(request.method) \(request.uri.path)" }
            case .contentTooLarge:
                code = "too_large"
                if message.isEmpty { message = "request body is larger than the server accepts" }
            case .methodNotAllowed:
                code = "method_not_allowed"
                if message.isEmpty { message = "\(request.method) is not allowed on \(request.uri.path)" }
            default:
                code = error.status.code >= 500 ? "internal" : "bad_request"
                if message.isEmpty { message = error.status.reasonPhrase }
            }
            return try APIError(error.status, code, message).response(from: request, context: context)
        } catch {
            context.logger.error(
                "request failed", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            return try APIError(.internalServerError, "internal", "internal error; the server log has details")
                .response(from: request, context: context)
        }
    }
}

/// A JSON response.
func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok, pretty: Bool = false) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: value.serialized(pretty: pretty) + "\n")))
}
