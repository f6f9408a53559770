// MARK: - Hash commands

extension CommandTable {
    static let hashCommands: [CommandSpec] = []
}
