import ArgumentParser

/// `drift profile`: profile a data file; `inspect` and `merge` profile files.
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Profile a CSV or JSON Lines file, inspect or merge profiles.",
        discussion: """
            `drift profile data.csv` writes data.dwp (a Driftwatch profile); `--format whylogs`
            writes a whylogs v1 .bin instead. `drift profile inspect FILE` summarises a native or
            whylogs profile; `drift profile merge A B --out C` merges profiles of one model.
            """,
        subcommands: [ProfileCreate.self, ProfileInspect.self, ProfileMerge.self],
        defaultSubcommand: ProfileCreate.self
    )
}
