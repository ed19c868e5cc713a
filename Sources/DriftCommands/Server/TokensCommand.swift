import ArgumentParser
import Foundation
import Reports
import Server
import Storage

/// `drift tokens create|list|revoke`: API tokens, managed directly in the database.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it (it is shown only once; only its hash is stored).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Project the token belongs to.") var project: String
        @Option(help: "A name for the token, unique among the project's active tokens.") var name: String
        @Option(help: "Comma-separated scopes: ingest, read, admin.") var scopes: String = "ingest"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var set: Set<TokenScope> = []
            for part in scopes.split(separator: ",") {
                guard let scope = TokenScope(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                    throw CLIError("unknown scope '\(part)' (ingest, read, admin)", exitCode: 64)
                }
                set.insert(scope)
            }
            guard !set.isEmpty else { throw CLIError("--scopes needs at least one scope", exitCode: 64) }
            guard !project.isEmpty else { throw CLIError("--project must not be empty", exitCode: 64) }
            let configuration = try database.configuration(environment: ProcessInfo.processInfo.environment)
            let token = Tokens.generate()
            let (project, name, json) = (self.project, self.name, self.json)
            let record: TokenRecord
            do {
                record = try await database.withDatabase(configuration) { pool in
                    try await TokenStore(pool: pool).create(
                        project: project, name: name, scopes: set, hash: Tokens.hash(token))
                }
            } catch let error as StorageError where error.isUniqueViolation {
                throw CLIError("project '\(project)' already has an active token named '\(name)'")
            }
            if json {
                print(
                    JSONValue.object([
                        ("id", .int(record.id)), ("project", .string(project)), ("name", .string(name)),
                        ("scopes", .array(record.scopes.map { .string($0.rawValue) })), ("token", .string(token)),
                    ]).serialized(pretty: true))
            } else {
                print(token)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this project's tokens.") var project: String?
        @Flag(help: "Include revoked tokens.") var all = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let configuration = try database.configuration(environment: ProcessInfo.processInfo.environment)
            let (project, all) = (self.project, self.all)
            let records = try await database.withDatabase(configuration) { pool in
                try await TokenStore(pool: pool).list(project: project, includeRevoked: all)
            }
            if json {
                print(
                    JSONValue.array(
                        records.map { r in
                            .object([
                                ("id", .int(r.id)), ("project", .string(r.project)), ("name", .string(r.name)),
                                ("scopes", .array(r.scopes.map { .string($0.rawValue) })),
                                ("created_at", .string(RFC3339.format(milliseconds: r.createdAt.milliseconds))),
                                (
                                    "revoked_at",
                                    r.revokedAt.map { .string(RFC3339.format(milliseconds: $0.milliseconds)) } ?? .null
                                ),
                            ])
                        }
                    ).serialized(pretty: true))
                return
            }
            var table = TextTable("id", "project", "name", "scopes", "created", "revoked")
            for r in records {
                table.append(
                    String(r.id), r.project, r.name, r.scopes.map(\.rawValue).joined(separator: ","),
                    RFC3339.format(milliseconds: r.createdAt.milliseconds),
                    r.revokedAt.map { RFC3339.format(milliseconds: $0.milliseconds) } ?? "-")
            }
            print(records.isEmpty ? "no tokens" : table.rendered())
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by id, or by project and name (effective within the server's token cache, 10 s).")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (see `drift tokens list`).") var id: Int64?
        @Option(help: "Project (with --name).") var project: String?
        @Option(help: "Token name (with --project).") var name: String?

        func run() async throws {
            let configuration = try database.configuration(environment: ProcessInfo.processInfo.environment)
            let (id, project, name) = (self.id, self.project, self.name)
            guard id != nil || (project != nil && name != nil) else {
                throw CLIError("give a token id, or --project and --name", exitCode: 64)
            }
            let revoked = try await database.withDatabase(configuration) { pool in
                let store = TokenStore(pool: pool)
                if let id { return try await store.revoke(id: id) }
                return try await store.revoke(project: project!, name: name!)
            }
            guard revoked else { throw CLIError("no active token matches") }
            print("revoked")
        }
    }
}
