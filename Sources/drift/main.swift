import DriftCommands

await Drift.runMain()
