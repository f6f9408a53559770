// MARK: - Set commands

extension CommandTable {
    static let setCommands: [CommandSpec] = []
}
