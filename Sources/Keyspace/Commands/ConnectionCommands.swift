// MARK: - Connection commands

extension CommandTable {
    static let connectionCommands: [CommandSpec] = []
}
