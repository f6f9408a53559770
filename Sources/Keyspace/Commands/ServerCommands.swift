// MARK: - Server commands

extension CommandTable {
    static let serverCommands: [CommandSpec] = []
}
