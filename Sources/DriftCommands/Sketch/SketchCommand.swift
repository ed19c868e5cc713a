import ArgumentParser

/// `drift sketch ...`: work with raw Apache DataSketches images.
struct SketchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sketch",
        abstract: "Inspect, build and merge raw DataSketches images (KLL, frequent strings).",
        subcommands: [SketchInspect.self, SketchBuild.self, SketchMerge.self]
    )
}
