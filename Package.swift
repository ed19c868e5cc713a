// swift-tools-version: 6.1
import PackageDescription

// Module boundaries follow docs/architecture.md: lower layers never import higher ones,
// and the `DriftProfiler` product must not pull in the server, PostgreSQL or YAML.
let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Driftwatch",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DriftProfiler", targets: ["Sketches"])
    ],
    targets: [
        .target(name: "Sketches", swiftSettings: upcoming),
        .testTarget(name: "SketchesTests", dependencies: ["Sketches"], swiftSettings: upcoming),
    ]
)
