// MARK: - Stream commands

extension CommandTable {
    static let streamCommands: [CommandSpec] = []
}
