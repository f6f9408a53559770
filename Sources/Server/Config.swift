import Foundation

// MARK: - Configuration: redis.conf syntax and command-line overrides
//
//   redis-server [/path/to/redis.conf] [--name value [value …]] …
//   redis-server - (configuration from standard input)
//
// As in Redis, the command-line options are turned into configuration lines appended after the file's, so a later
// directive overrides an earlier one. Lines are split like Redis's sdssplitargs (double quotes with \n \r \t \b \a
// \\ \" \xHH escapes, single quotes with \'), `#` starts a comment line, directive names are case-insensitive.

/// A configuration error, reported as Redis reports a bad configuration file (then the process exits with 1).
struct ConfigError: Error, CustomStringConvertible {
    var line: Int
    var text: String
    var reason: String

    var description: String {
        "\n*** FATAL CONFIG FILE ERROR (Redis \(RedisCompatibility.version)) ***\n"
            + "Reading the configuration file, at line \(line)\n>>> '\(text)'\n\(reason)"
    }
}

/// What the server reports as its version.
enum RedisCompatibility {
    static let version = "7.0.15"
}

/// The server's configuration: every parameter's current value as text (what CONFIG GET reports), with typed
/// accessors for the ones the server acts on.
struct ServerConfig: Sendable {
    /// Canonical name → value.
    private(set) var values: [String: String]
    /// The configuration file, made absolute (CONFIG GET does not report it; INFO `config_file` does).
    var configFile: String?
    /// `rename-command` directives, in order: (old name, new name or "" to disable).
    var renamedCommands: [(from: String, to: String)] = []

    init() {
        var values: [String: String] = [:]
        for (_, parameter) in ConfigParameter.table { values[parameter.name] = parameter.defaultValue }
        self.values = values
    }

    // MARK: - Typed values

    subscript(name: String) -> String { values[name] ?? "" }

    private func integer(_ name: String) -> Int64 { ServerConfig.parseNumber(self[name], memory: true) ?? 0 }
    private func bool(_ name: String) -> Bool { self[name] == "yes" }

    var port: Int { Int(integer("port")) }
    var bindAddresses: [String] { self["bind"].split(separator: " ").map(String.init) }
    var dir: String { self["dir"] }
    var dbfilename: String { self["dbfilename"] }
    var databases: Int { Int(integer("databases")) }
    var requirePass: String? { self["requirepass"].isEmpty ? nil : self["requirepass"] }
    var maxClients: Int { Int(integer("maxclients")) }
    var protoMaxBulkLength: Int { Int(integer("proto-max-bulk-len")) }
    var queryBufferLimit: Int { Int(integer("client-query-buffer-limit")) }
    var daemonize: Bool { bool("daemonize") }
    var pidfile: String? { self["pidfile"].isEmpty ? nil : self["pidfile"] }
    var logfile: String { self["logfile"] }
    var loglevel: String { self["loglevel"] }
    var hz: Int { max(1, min(500, Int(integer("hz")))) }
    var timeout: Int64 { integer("timeout") }
    var alwaysShowLogo: Bool { bool("always-show-logo") }
    var tcpBacklog: Int { Int(integer("tcp-backlog")) }
    var enableDebugCommand: String { self["enable-debug-command"] }
    var persistenceAvailable: Bool { bool("persistence-available") }
    /// The save points as (seconds, changes) pairs (used by background saving, issue #6).
    var savePoints: [(seconds: Int, changes: Int)] {
        let numbers = self["save"].split(separator: " ").compactMap { Int($0) }
        return stride(from: 0, to: numbers.count - 1, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
    }

    // MARK: - Command line

    /// What the command line asks for.
    enum Invocation {
        case run(ServerConfig)
        case version
        case help
    }

    /// Parses `redis-server [config-file] [--name value …]`, reading the file (or standard input for `-`).
    static func parse(arguments: [String], readFile: (String) throws -> String = ServerConfig.readFile) throws
        -> Invocation
    {
        var arguments = arguments
        if let first = arguments.first {
            switch first {
            case "-v", "--version": return .version
            case "-h", "--help": return .help
            default: break
            }
        }
        var config = ServerConfig()
        var text = ""
        var fromStandardInput = false
        if let first = arguments.first, !first.hasPrefix("-") {
            config.configFile = absolutePath(first)
            text = try readFile(first)
            arguments.removeFirst()
        }
        if arguments.first == "-" || arguments.last == "-" {
            fromStandardInput = true
            arguments.removeAll { $0 == "-" }
        }
        if fromStandardInput {
            text += "\n" + (String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) ?? "")
        }
        let options = commandLineOptions(arguments)
        try config.load(text + (options.isEmpty ? "" : "\n" + options), readFile: readFile)
        return .run(config)
    }

    /// Turns `--name value …` arguments into configuration lines, as Redis's main() does (`--save` alone means
    /// `save ""`).
    static func commandLineOptions(_ arguments: [String]) -> String {
        var options = ""
        var index = 0
        var lastNameHadValue = true
        while index < arguments.count {
            let argument = arguments[index]
            if lastNameHadValue, argument.hasPrefix("--") {
                if !options.isEmpty { options += "\n" }
                options += String(argument.dropFirst(2)) + " "
                let words = (try? splitArguments(argument)) ?? [argument]
                if words.count == 1 {
                    lastNameHadValue = false
                    let nextIsName = index + 1 < arguments.count && arguments[index + 1].hasPrefix("--")
                    if argument.lowercased() == "--save", nextIsName || index == arguments.count - 1 {
                        options += "\"\""
                        lastNameHadValue = true
                    }
                } else {
                    lastNameHadValue = true
                }
            } else {
                options += quoted(argument) + " "
                lastNameHadValue = true
            }
            index += 1
        }
        return options
    }

    static func readFile(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigFileError(path: path, reason: String(cString: strerror(errno)))
        }
        return String(decoding: data, as: UTF8.self)
    }

    struct ConfigFileError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "Fatal error, can't open config file '\(path)': \(reason)" }
    }

    private static func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    // MARK: - Loading lines

    /// Applies configuration text: one directive per line, the last occurrence winning (`save` lines add up; the
    /// first one replaces the default).
    mutating func load(_ text: String, readFile: (String) throws -> String = ServerConfig.readFile) throws {
        var sawSave = false
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fail = { (reason: String) in ConfigError(line: number + 1, text: line, reason: reason) }
            guard let words = try? ServerConfig.splitArguments(line) else {
                throw fail("Unbalanced quotes in configuration line")
            }
            guard let first = words.first else { continue }
            let name = first.lowercased()
            let arguments = Array(words.dropFirst())
            switch name {
            case "include":
                guard arguments.count == 1 else { throw fail("Bad directive or wrong number of arguments") }
                try load(try readFile(arguments[0]), readFile: readFile)
                continue
            case "rename-command":
                guard arguments.count == 2 else { throw fail("wrong number of arguments") }
                renamedCommands.append((arguments[0].lowercased(), arguments[1].lowercased()))
                continue
            case "user", "loadmodule", "sentinel":
                // ACL users, modules and Sentinel are not supported; accepted so that a stock file loads.
                continue
            case "save":
                if let reason = ServerConfig.validateSave(arguments) { throw fail(reason) }
                let joined = arguments.flatMap { $0.split(separator: " ") }.joined(separator: " ")
                if !sawSave || joined.isEmpty || self["save"].isEmpty {
                    values["save"] = joined
                } else {
                    values["save"] = self["save"] + " " + joined
                }
                sawSave = true
                continue
            default:
                break
            }
            guard let parameter = ConfigParameter.table[name] else {
                throw fail("Bad directive or wrong number of arguments")
            }
            let multiWord = parameter.kind == .list || parameter.name == "replicaof"
            guard multiWord ? !arguments.isEmpty : arguments.count == 1 else {
                throw fail("wrong number of arguments")
            }
            let value = multiWord ? arguments.joined(separator: " ") : arguments[0]
            if let reason = setValue(parameter, value) { throw fail(reason) }
        }
    }

    /// Validates and stores a value; returns Redis's reason when it is refused.
    mutating func setValue(_ parameter: ConfigParameter, _ value: String) -> String? {
        switch ServerConfig.normalize(value, as: parameter.kind, name: parameter.name) {
        case .success(let normalized):
            values[parameter.name] = normalized
            return nil
        case .failure(let reason):
            return reason.text
        }
    }

    struct Refusal: Error {
        var text: String
    }

    /// The canonical text of `value` for a parameter of `kind` (memory sizes in bytes, yes/no lower-case).
    static func normalize(_ value: String, as kind: ConfigKind, name: String) -> Result<String, Refusal> {
        switch kind {
        case .bool:
            switch value.lowercased() {
            case "yes": return .success("yes")
            case "no": return .success("no")
            default: return .failure(Refusal(text: "argument must be 'yes' or 'no'"))
            }
        case .integer(let range), .memory(let range):
            let memory = if case .memory = kind { true } else { false }
            guard let number = parseNumber(value, memory: memory) else {
                return .failure(Refusal(text: memory ? "argument must be a memory value" : "argument couldn't be parsed into an integer"))
            }
            guard range.contains(number) else {
                return .failure(Refusal(text: "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive"))
            }
            return .success(String(number))
        case .enumeration(let words):
            let lowered = value.lowercased()
            guard words.contains(lowered) else {
                return .failure(Refusal(text: "argument(s) must be one of the following: \(words.joined(separator: ", "))"))
            }
            return .success(lowered)
        case .string:
            if name == "dbfilename", value.contains("/") {
                return .failure(Refusal(text: "dbfilename can't be a path, just a filename"))
            }
            return .success(value)
        case .list:
            return .success(value)
        }
    }

    /// A decimal integer, or for memory values one with a unit (`k` = 1000, `kb` = 1024 … `gb`), as Redis's
    /// `memtoull`.
    static func parseNumber(_ text: String, memory: Bool) -> Int64? {
        if let value = Int64(text) { return value }
        guard memory else { return nil }
        let lowered = text.lowercased()
        let units: [(String, Int64)] = [
            ("gb", 1024 * 1024 * 1024), ("mb", 1024 * 1024), ("kb", 1024), ("g", 1_000_000_000), ("m", 1_000_000),
            ("k", 1000), ("b", 1),
        ]
        for (suffix, multiplier) in units where lowered.hasSuffix(suffix) {
            guard let number = Int64(lowered.dropLast(suffix.count)), number >= 0 else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        return nil
    }

    /// `save <seconds> <changes> [<seconds> <changes> …]` or `save ""`.
    static func validateSave(_ arguments: [String]) -> String? {
        // `--save "900 1"` arrives as one argument: Redis splits it on spaces too.
        let words = arguments.flatMap { $0.split(separator: " ").map(String.init) }
        if words.isEmpty { return nil }
        guard words.count % 2 == 0, words.allSatisfy({ Int($0).map { $0 >= 0 } ?? false }) else {
            return "Invalid save parameters"
        }
        return nil
    }

    // MARK: - Splitting lines (Redis sdssplitargs)

    struct UnbalancedQuotes: Error {}

    static func splitArguments(_ line: String) throws(UnbalancedQuotes) -> [String] {
        guard let words = InlineSplitter.split(Array(line.utf8)) else { throw UnbalancedQuotes() }
        return words.map(\.string)
    }

    /// A word quoted so that ``splitArguments(_:)`` gives it back (Redis `sdscatrepr`).
    static func quoted(_ word: String) -> String {
        var out = "\""
        for byte in word.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\""): out += "\\\""
            case 10: out += "\\n"
            case 13: out += "\\r"
            case 9: out += "\\t"
            case 7: out += "\\a"
            case 8: out += "\\b"
            case 32...126: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += String(format: "\\x%02x", byte)
            }
        }
        return out + "\""
    }
}
