// MARK: - Key commands

extension CommandTable {
    static let keyCommands: [CommandSpec] = []
}
