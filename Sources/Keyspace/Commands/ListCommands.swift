// MARK: - List commands

extension CommandTable {
    static let listCommands: [CommandSpec] = []
}
