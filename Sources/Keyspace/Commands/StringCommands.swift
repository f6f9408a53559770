// MARK: - String commands

extension CommandTable {
    static let stringCommands: [CommandSpec] = []
}
