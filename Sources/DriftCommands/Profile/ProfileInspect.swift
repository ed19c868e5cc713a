import ArgumentParser
import Foundation
import Profiles
import Reports

/// `drift profile inspect FILE`: summarise a native or whylogs profile.
struct ProfileInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract:
            "Summarise a profile (Driftwatch native or whylogs): counts, types, moments, quantiles, cardinality, frequent items."
    )

    @Argument(help: "The profile file.")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let bytes = try FileIO.read(file, what: "profile")
        let decoded: (profile: DatasetProfile, format: ProfileFormat)
        do { decoded = try ProfileCodec.decode(bytes) } catch { throw CLIError("\(file): \(error)") }
        let summary = ProfileInspection(decoded.profile, format: decoded.format)
        print(json ? summary.json.serialized(pretty: true) : summary.text)
    }
}

/// `drift profile merge A B ... --out C`: merge profiles of one model.
struct ProfileMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge profiles of one model (windows widen, segments intersect) into one file."
    )

    @Argument(help: "Two or more profile files (native or whylogs).")
    var files: [String]

    @Option(help: "Where to write the merged profile.")
    var out: String

    @Option(help: "native (default) or whylogs.")
    var format: String = "native"

    func run() throws {
        guard let outputFormat = ProfileFormat(rawValue: format) else {
            throw CLIError("--format: '\(format)' is not native or whylogs", exitCode: 64)
        }
        guard !files.isEmpty else { throw CLIError("no profiles to merge", exitCode: 64) }
        var merged: DatasetProfile?
        for file in files {
            let bytes = try FileIO.read(file, what: "profile")
            let profile: DatasetProfile
            do { profile = try ProfileCodec.decode(bytes).profile } catch { throw CLIError("\(file): \(error)") }
            if merged == nil {
                merged = profile
            } else {
                do { try merged!.merge(profile) } catch { throw CLIError("\(file): \(error)") }
            }
        }
        merged!.uploadID = .random()
        merged!.createdAt = Clock.nowMilliseconds()
        try FileIO.write(ProfileCodec.encode(merged!, format: outputFormat), to: out)
    }
}
