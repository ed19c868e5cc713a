import Foundation

/// The server's answer to an accepted upload: `202 {"id": "...", "duplicate": bool}`.
public struct UploadReceipt: Sendable, Equatable {
    /// The id the server stored the profile under.
    public var id: String
    /// True when the server already had this upload id (a retry after a lost response).
    public var duplicate: Bool

    public init(id: String, duplicate: Bool) {
        self.id = id
        self.duplicate = duplicate
    }

    /// Reads a 2xx body; nil when it is not the documented JSON object.
    public init?(_ response: HTTPResponse) {
        guard (200..<300).contains(response.status),
            let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let id = object["id"] as? String
        else { return nil }
        self.init(id: id, duplicate: object["duplicate"] as? Bool ?? false)
    }
}

/// Reading the server's error bodies, `{"error": {"code": "...", "message": "..."}}`.
public enum ServerError {
    /// `status code: message` from an error body; for a body that is not the documented JSON,
    /// its first 200 characters (or the bare status).
    public static func message(of response: HTTPResponse) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let error = object["error"] as? [String: Any]
        {
            let code = error["code"] as? String
            let message = error["message"] as? String ?? "(no message)"
            return "HTTP \(response.status)" + (code.map { " \($0)" } ?? "") + ": " + message
        }
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return "HTTP \(response.status)" + (text.isEmpty ? "" : ": " + text)
    }
}
