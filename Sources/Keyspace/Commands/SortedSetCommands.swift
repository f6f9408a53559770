// MARK: - SortedSet commands

extension CommandTable {
    static let sortedSetCommands: [CommandSpec] = []
}
